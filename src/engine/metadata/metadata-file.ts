import type { ContainerState, TaskState } from '../../api/task.js';

/*
 * The content of a container's metadata file: ECS's container metadata file format, with ECS's
 * field names, from what the engine has saved about the task and the container. Pure, so the
 * writer compares what it would write with what it wrote and rewrites only on a change.
 */

/** `PENDING` until the container is running and Docker has shown its networks; then `READY`. */
export type MetadataFileStatus = 'PENDING' | 'READY';

export interface MetadataPortMapping {
  readonly ContainerPort: number;
  readonly HostPort: number;
  readonly BindIp: string;
  readonly Protocol: string;
}

export interface MetadataNetwork {
  /** The Docker network's name (`bridge`, `host`, `none` or a user network), as the ECS agent writes it. */
  readonly NetworkMode: string;
  /** Absent when Docker gave the container no address on that network (host, none). */
  readonly IPv4Addresses?: readonly string[];
}

/** Fields not known yet are absent, as in ECS's file before it is READY. */
export interface MetadataFile {
  readonly Cluster: string;
  readonly TaskARN: string;
  readonly TaskDefinitionFamily: string;
  readonly TaskDefinitionRevision: string;
  readonly ContainerName: string;
  readonly ContainerID?: string;
  readonly DockerContainerName: string;
  readonly ImageName: string;
  readonly ImageID?: string;
  /** berth's addition: the registry digest of the image (ECS's container `imageDigest`); absent for a local-only image. */
  readonly ImageDigest?: string;
  readonly PortMappings?: readonly MetadataPortMapping[];
  readonly Networks?: readonly MetadataNetwork[];
  readonly MetadataFileStatus: MetadataFileStatus;
}

export interface MetadataSettings {
  /** The agent's configured cluster name. */
  readonly cluster: string;
}

export function metadataFileOf(settings: MetadataSettings, task: TaskState, c: ContainerState): MetadataFile {
  const networks = c.networks === undefined ? undefined : Object.keys(c.networks).sort();
  return {
    Cluster: settings.cluster,
    TaskARN: task.arn,
    TaskDefinitionFamily: task.family,
    TaskDefinitionRevision: task.version,
    ContainerName: c.definition.name,
    ...(c.dockerId === undefined ? {} : { ContainerID: c.dockerId }),
    // Docker's own name for it, with the leading slash inspect shows (and the ECS agent keeps).
    DockerContainerName: `/${c.dockerName}`,
    ImageName: c.definition.image,
    ...(c.imageId === undefined ? {} : { ImageID: c.imageId }),
    ...(c.imageDigest === undefined ? {} : { ImageDigest: c.imageDigest }),
    ...(c.portBindings.length === 0
      ? {}
      : {
          PortMappings: c.portBindings.map((p) => ({ ContainerPort: p.containerPort, HostPort: p.hostPort, BindIp: p.hostIp, Protocol: p.protocol })),
        }),
    ...(networks === undefined || networks.length === 0
      ? {}
      : {
          Networks: networks.map((name) => {
            const ip = c.networks![name]!.ipAddress;
            return { NetworkMode: name, ...(ip ? { IPv4Addresses: [ip] } : {}) };
          }),
        }),
    MetadataFileStatus: metadataStatusOf(c),
  };
}

/**
 * READY once the container runs with its networks known, and still READY after it stops: the file
 * keeps the last full record. A restarted incarnation is PENDING again until it runs.
 */
export function metadataStatusOf(c: ContainerState): MetadataFileStatus {
  if (c.dockerId === undefined || c.networks === undefined) return 'PENDING';
  if (c.knownStatus === 'RUNNING') return 'READY';
  return c.knownStatus === 'STOPPED' && c.startedAt !== undefined ? 'READY' : 'PENDING';
}

/** The bytes written: stable key order (the literal's), indented like ECS's example, newline-terminated. */
export function renderMetadataFile(file: MetadataFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

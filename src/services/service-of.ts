import { RESERVED_LABEL_PREFIX, USER_LABELS } from '../api/labels.js';
import type { ContainerState, HealthStatus, TaskState } from '../api/task.js';

/**
 * One running container as monitoring sees it: Datadog's listeners `Service` (GetID,
 * GetADIdentifiers, GetHosts, GetPorts, GetTags, GetPid), with its health and what it belongs to.
 */
export interface Service {
  /** The Docker ID: stable for the container's life, across agent restarts. */
  readonly id: string;
  /** What check templates match on: `docker://<id>`, the long and short image name, or the `berth.ad.id` label's list. */
  readonly adIdentifiers: readonly string[];
  /** Network name → address, for the networks the container has an address on. */
  readonly hosts: Readonly<Record<string, string>>;
  /** The container ports it publishes, ascending, each once. */
  readonly ports: readonly number[];
  /** The definition's labels as `key:value`, without the agent's `berth.*` ones. */
  readonly tags: readonly string[];
  /** The main process's host PID, when Docker reported it. */
  readonly pid?: number;
  readonly health: HealthStatus;
  readonly taskArn: string;
  readonly family: string;
  readonly containerName: string;
  readonly image: string;
}

/** The services of a task: each of its containers that runs and has a Docker ID. Pure. */
export function servicesOf(task: TaskState): Service[] {
  const out: Service[] = [];
  for (const c of task.containers) {
    if (c.knownStatus !== 'RUNNING' || c.dockerId === undefined) continue;
    out.push(serviceOf(task, c, c.dockerId));
  }
  return out;
}

function serviceOf(task: TaskState, c: ContainerState, id: string): Service {
  const labels = c.definition.labels;
  return {
    id,
    adIdentifiers: adIdentifiers(id, c.definition.image, labels[USER_LABELS.adIdentifiers]),
    hosts: hostsOf(c),
    ports: [...new Set(c.definition.portMappings.map((p) => p.containerPort))].sort((a, b) => a - b),
    tags: Object.entries(labels)
      .filter(([key]) => !key.startsWith(RESERVED_LABEL_PREFIX))
      .map(([key, value]) => `${key}:${value}`)
      .sort(),
    ...(c.pid === undefined ? {} : { pid: c.pid }),
    health: c.health ?? 'UNKNOWN',
    taskArn: task.arn,
    family: task.family,
    containerName: c.definition.name,
    image: c.definition.image,
  };
}

/**
 * Datadog's ComputeContainerServiceIDs: the label's comma-separated list when it names any,
 * else `docker://<id>`, the image name without tag or digest, and its last path segment.
 */
export function adIdentifiers(id: string, image: string, label: string | undefined): string[] {
  const listed = (label ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (listed.length > 0) return [...new Set(listed)];
  const long = imageName(image);
  const short = long.slice(long.lastIndexOf('/') + 1);
  return [...new Set([`docker://${id}`, long, short])];
}

/** `127.0.0.1:5000/berth/busybox:latest@sha256:…` → `127.0.0.1:5000/berth/busybox`: a tag is a colon after the last slash. */
export function imageName(image: string): string {
  const at = image.indexOf('@');
  const name = at === -1 ? image : image.slice(0, at);
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

function hostsOf(c: ContainerState): Record<string, string> {
  const hosts: Record<string, string> = {};
  for (const name of Object.keys(c.networks ?? {}).sort()) {
    const address = c.networks?.[name]?.ipAddress;
    if (address) hosts[name] = address;
  }
  return hosts;
}

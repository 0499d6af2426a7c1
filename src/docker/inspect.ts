// Part of the dockerode adapter: Docker's inspect answers in the project's own types.
import type Docker from 'dockerode';
import type { PortBinding, Protocol } from '../api/task.js';
import type { ContainerInfo, DockerContainerState, DockerHealth, ImageInfo, VolumeInfo } from './docker-client.js';

const HEALTH: ReadonlySet<string> = new Set<DockerHealth>(['starting', 'healthy', 'unhealthy']);

/** Docker's container inspect answer as a ContainerInfo. */
export function toContainerInfo(info: Docker.ContainerInspectInfo): ContainerInfo {
  const state = info.State.Status as DockerContainerState;
  const stopped = state === 'exited' || state === 'dead';
  const ports = (info.NetworkSettings?.Ports ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
  // "none" when there is no healthcheck; absent before the first start.
  const health = info.State.Health?.Status;
  const pid = info.State.Pid;
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    image: info.Config.Image,
    ...(info.Image ? { imageId: info.Image } : {}),
    state,
    ...(stopped ? { exitCode: info.State.ExitCode } : {}),
    oomKilled: info.State.OOMKilled === true,
    labels: { ...(info.Config.Labels ?? {}) },
    portBindings: toPortBindings(ports),
    ...(health !== undefined && HEALTH.has(health) ? { health: health as DockerHealth } : {}),
    ...(state === 'running' && typeof pid === 'number' && pid > 0 ? { pid } : {}),
    ...toNetworks(info.NetworkSettings?.Networks),
    ...(info.Config.Hostname ? { hostname: info.Config.Hostname } : {}),
    ...optionalTime('createdAt', info.Created),
    ...optionalTime('startedAt', info.State.StartedAt),
    ...optionalTime('finishedAt', info.State.FinishedAt),
  };
}

/** Docker's volume answer (inspect, or one entry of a list) as a VolumeInfo. */
export function toVolumeInfo(volume: Docker.VolumeInspectInfo): VolumeInfo {
  return {
    name: volume.Name,
    driver: volume.Driver,
    driverOpts: { ...(volume.Options ?? {}) },
    labels: { ...(volume.Labels ?? {}) },
    mountpoint: volume.Mountpoint,
  };
}

function toNetworks(
  networks: Record<string, { IPAddress?: string }> | undefined,
): { networks?: Record<string, { ipAddress?: string }> } {
  if (!networks || Object.keys(networks).length === 0) return {};
  const out: Record<string, { ipAddress?: string }> = {};
  for (const [name, network] of Object.entries(networks)) {
    out[name] = network.IPAddress ? { ipAddress: network.IPAddress } : {};
  }
  return { networks: out };
}

const DOCKER_ZERO_TIME = /^0001-01-01T/;

function optionalTime<K extends string>(key: K, value: string | undefined): { [P in K]?: number } {
  if (!value || DOCKER_ZERO_TIME.test(value)) return {};
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? {} : ({ [key]: ms } as { [P in K]?: number });
}

/**
 * NetworkSettings.Ports: what Docker bound, so a dynamic port (asked for with HostPort "") reads
 * back as the port Docker chose. Entries without a host port (exposed only) are left out.
 */
function toPortBindings(ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null>): PortBinding[] {
  const bindings: PortBinding[] = [];
  for (const [key, hosts] of Object.entries(ports)) {
    const [port, protocol] = key.split('/');
    if (!hosts || (protocol !== 'tcp' && protocol !== 'udp')) continue;
    for (const host of hosts) {
      const hostPort = Number(host.HostPort);
      if (!Number.isInteger(hostPort) || hostPort <= 0) continue;
      bindings.push({ containerPort: Number(port), hostPort, protocol: protocol as Protocol, hostIp: host.HostIp });
    }
  }
  return bindings;
}

/**
 * Docker's image inspect or image list answer as an ImageInfo. The two differ: inspect gives
 * `Created` as an RFC 3339 string, the list as epoch seconds; an untagged image lists its tags as
 * null or `<none>:<none>`.
 */
export function toImageInfo(info: Docker.ImageInspectInfo | Docker.ImageInfo): ImageInfo {
  const created = typeof info.Created === 'number' ? info.Created * 1000 : Date.parse(info.Created);
  return {
    id: info.Id,
    repoTags: (info.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
    repoDigests: (info.RepoDigests ?? []).filter((d) => !d.startsWith('<none>@')),
    sizeBytes: info.Size,
    ...(Number.isFinite(created) && created > 0 ? { createdAt: created } : {}),
  };
}

// Part of the dockerode adapter: a ContainerSpec in Docker's wire format.
import type Docker from 'dockerode';
import type { ContainerSpec, MountSpec } from './docker-client.js';

const NS_PER_MS = 1_000_000;

/**
 * A ContainerSpec as the body of Docker's POST /containers/create (Engine API v1.41). A field
 * absent from the spec is absent from the body, so Docker applies its own default.
 */
export function toCreateOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  const exposedPorts: Record<string, object> = {};
  const portBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const mapping of spec.portMappings) {
    const key = `${mapping.containerPort}/${mapping.protocol}`;
    exposedPorts[key] = {};
    (portBindings[key] ??= []).push({
      HostIp: mapping.hostIp,
      // Empty: Docker picks a free port.
      HostPort: mapping.hostPort === undefined ? '' : String(mapping.hostPort),
    });
  }
  const health = spec.healthCheck;
  const hostConfig: Docker.HostConfig = {
    PortBindings: portBindings,
    ...optional('NetworkMode', spec.networkMode),
    ...optional('PidMode', spec.pidMode),
    ...optional('IpcMode', spec.ipcMode),
    ...optional('Links', copy(spec.links)),
    ...optional('Binds', spec.mounts?.map(toBind)),
    ...optional('VolumesFrom', spec.volumesFrom?.map((v) => `${v.container}:${v.readOnly ? 'ro' : 'rw'}`)),
    ...optional('Dns', copy(spec.dns)),
    ...optional('DnsSearch', copy(spec.dnsSearch)),
    ...optional('ExtraHosts', copy(spec.extraHosts)),
    ...optional('CpuShares', spec.cpuShares),
    ...optional('Memory', spec.memoryBytes),
    ...optional('MemoryReservation', spec.memoryReservationBytes),
    ...optional('MemorySwap', spec.memorySwapBytes),
    ...optional('MemorySwappiness', spec.memorySwappiness),
    ...optional('Ulimits', spec.ulimits?.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }))),
    ...optional('ReadonlyRootfs', spec.readonlyRootfs),
    ...optional('Privileged', spec.privileged),
    ...optional('SecurityOpt', copy(spec.securityOpt)),
    ...optional('Sysctls', spec.sysctls && { ...spec.sysctls }),
    ...optional('Init', spec.init),
    ...optional('ShmSize', spec.shmSizeBytes),
    ...optional('Tmpfs', spec.tmpfs && { ...spec.tmpfs }),
    ...optional('CapAdd', copy(spec.capAdd)),
    ...optional('CapDrop', copy(spec.capDrop)),
    ...optional(
      'Devices',
      spec.devices?.map((d) => ({ PathOnHost: d.hostPath, PathInContainer: d.containerPath, CgroupPermissions: d.permissions })),
    ),
    ...optional('LogConfig', spec.logConfig && { Type: spec.logConfig.type, Config: { ...spec.logConfig.config } }),
  };
  return {
    name: spec.name,
    Image: spec.image,
    ...(spec.command ? { Cmd: [...spec.command] } : {}),
    ...(spec.entryPoint ? { Entrypoint: [...spec.entryPoint] } : {}),
    Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
    Labels: { ...spec.labels },
    StopTimeout: spec.stopTimeout,
    ExposedPorts: exposedPorts,
    ...optional('Hostname', spec.hostname),
    ...optional('User', spec.user),
    ...optional('WorkingDir', spec.workingDir),
    ...optional('Tty', spec.tty),
    ...optional('OpenStdin', spec.openStdin),
    ...optional('NetworkDisabled', spec.networkDisabled),
    ...optional(
      'Healthcheck',
      health && {
        Test: [...health.test],
        // Docker takes durations in nanoseconds.
        Interval: health.intervalMs * NS_PER_MS,
        Timeout: health.timeoutMs * NS_PER_MS,
        Retries: health.retries,
        StartPeriod: health.startPeriodMs * NS_PER_MS,
      },
    ),
    HostConfig: hostConfig,
  };
}

// Binds rather than Mounts, as the ECS agent does: only Binds creates a missing host directory
// (Mounts refuses it), and both create a missing named volume with the default driver.
function toBind(mount: MountSpec): string {
  return `${mount.source}:${mount.target}${mount.readOnly ? ':ro' : ''}`;
}

function copy<T>(list: readonly T[] | undefined): T[] | undefined {
  return list && [...list];
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

import type { ContainerStats } from './docker-client.js';

/**
 * Docker's stats JSON (Linux containers, cgroup v1 or v2) as the project's ContainerStats. Only
 * the fields read here matter; everything is optional because Docker leaves out what a cgroup
 * version or a network mode does not have.
 */
export interface DockerStatsJson {
  readonly read?: string;
  readonly pids_stats?: { readonly current?: number };
  readonly cpu_stats?: {
    readonly cpu_usage?: { readonly total_usage?: number; readonly percpu_usage?: readonly number[] };
    readonly system_cpu_usage?: number;
    readonly online_cpus?: number;
  };
  readonly memory_stats?: {
    readonly usage?: number;
    readonly limit?: number;
    readonly stats?: Readonly<Record<string, number>>;
  };
  readonly networks?: Readonly<Record<string, { readonly rx_bytes?: number; readonly tx_bytes?: number }>>;
  readonly blkio_stats?: {
    readonly io_service_bytes_recursive?: ReadonlyArray<{ readonly op?: string; readonly value?: number }> | null;
  };
}

/** Docker's zero time: what `read` says for a container that is not running (it answers 200 with zeros). */
export function isZeroRead(json: DockerStatsJson): boolean {
  const read = json.read === undefined ? NaN : Date.parse(json.read);
  return !Number.isFinite(read) || read <= 0;
}

export function toContainerStats(json: DockerStatsJson): ContainerStats {
  const cpu = json.cpu_stats ?? {};
  const mem = json.memory_stats ?? {};
  const system = cpu.system_cpu_usage;
  const pids = json.pids_stats?.current;
  return {
    cpuTotalNs: num(cpu.cpu_usage?.total_usage),
    ...(system === undefined ? {} : { systemCpuNs: system }),
    // Docker before 19.03 left out online_cpus; the CLI then counts the per-CPU figures.
    onlineCpus: cpu.online_cpus ?? cpu.cpu_usage?.percpu_usage?.length ?? 1,
    memoryUsageBytes: memoryWithoutCache(mem.usage, mem.stats),
    memoryLimitBytes: num(mem.limit),
    network: networkTotals(json.networks),
    blockIo: blockIoTotals(json.blkio_stats?.io_service_bytes_recursive ?? []),
    ...(pids === undefined ? {} : { pids }),
    readAt: Date.parse(json.read ?? ''),
  };
}

/**
 * The Docker CLI's rule (calculateMemUsageUnixNoCache): page cache the kernel can drop at once is
 * not counted, so the figure is what an OOM kill compares with. cgroup v1 reports it as
 * `total_inactive_file`, v2 as `inactive_file`.
 */
function memoryWithoutCache(usage: number | undefined, stats: Readonly<Record<string, number>> | undefined): number {
  const used = num(usage);
  const v1 = stats?.total_inactive_file;
  if (v1 !== undefined && v1 < used) return used - v1;
  const v2 = stats?.inactive_file;
  if (v2 !== undefined && v2 < used) return used - v2;
  return used;
}

function networkTotals(networks: DockerStatsJson['networks']): ContainerStats['network'] {
  let rxBytes = 0;
  let txBytes = 0;
  for (const nic of Object.values(networks ?? {})) {
    rxBytes += num(nic.rx_bytes);
    txBytes += num(nic.tx_bytes);
  }
  return { rxBytes, txBytes };
}

// cgroup v1 names the ops `Read`/`Write`, v2 `read`/`write`; the CLI compares the first letter.
function blockIoTotals(entries: ReadonlyArray<{ readonly op?: string; readonly value?: number }>): ContainerStats['blockIo'] {
  let readBytes = 0;
  let writeBytes = 0;
  for (const entry of entries) {
    const op = (entry.op ?? '').toLowerCase();
    if (op === 'read') readBytes += num(entry.value);
    else if (op === 'write') writeBytes += num(entry.value);
  }
  return { readBytes, writeBytes };
}

function num(value: number | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

import type { ContainerStats } from '../../docker/docker-client.js';

/** Which container of which task a sample is of. */
export interface UsageTarget {
  readonly taskArn: string;
  readonly taskFamily: string;
  readonly container: string;
  readonly dockerId: string;
}

/** A running container's latest usage, as /metrics, GET /v1/stats and `agent task stats` show it. */
export interface ContainerUsage extends UsageTarget {
  /**
   * Share of one CPU over the span between the last two samples, as `docker stats` shows it
   * (200 = two CPUs busy). Null after the first sample of a container: a rate needs two.
   */
  readonly cpuPercent: number | null;
  readonly memoryUsageBytes: number;
  readonly memoryLimitBytes: number;
  /** Totals since the container started. */
  readonly network: { readonly rxBytes: number; readonly txBytes: number };
  readonly blockIo: { readonly readBytes: number; readonly writeBytes: number };
  /** Epoch milliseconds Docker read the sample. */
  readonly sampledAt: number;
}

/**
 * The Docker CLI's formula (calculateCPUPercentUnix): the container's CPU time over the host's,
 * both as deltas between two samples, times the CPUs online. Null when either delta is not
 * positive: the first sample, a counter that restarted (the container's cgroup is new), or a
 * Docker that reports no host CPU time.
 */
export function cpuPercent(previous: ContainerStats | undefined, current: ContainerStats): number | null {
  if (!previous || previous.systemCpuNs === undefined || current.systemCpuNs === undefined) return null;
  const cpuDelta = current.cpuTotalNs - previous.cpuTotalNs;
  const systemDelta = current.systemCpuNs - previous.systemCpuNs;
  if (cpuDelta < 0 || systemDelta <= 0) return null;
  return (cpuDelta / systemDelta) * current.onlineCpus * 100;
}

export function usageOf(target: UsageTarget, previous: ContainerStats | undefined, current: ContainerStats): ContainerUsage {
  return {
    ...target,
    cpuPercent: cpuPercent(previous, current),
    memoryUsageBytes: current.memoryUsageBytes,
    memoryLimitBytes: current.memoryLimitBytes,
    network: current.network,
    blockIo: current.blockIo,
    sampledAt: current.readAt,
  };
}

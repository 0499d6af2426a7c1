import type { ContainerUsage } from '../engine/stats/container-usage.js';
import type { StatsStatus } from '../engine/stats/stats-poller.js';

/** A running container's latest usage as the socket API and the CLI show it: the sample, its time ISO-8601. */
export type UsageView = Omit<ContainerUsage, 'sampledAt'> & { readonly sampledAt: string };

/** GET /v1/stats and GET /v1/tasks/{arn}/stats. */
export interface StatsView {
  /** False while sampling is off; `detail` says why. */
  readonly enabled: boolean;
  readonly detail?: string;
  /** How often samples are taken, so a client knows when to ask again. */
  readonly intervalMs: number;
  readonly containers: readonly UsageView[];
}

export function statsView(status: StatsStatus, usage: readonly ContainerUsage[]): StatsView {
  return {
    enabled: status.enabled,
    ...(status.detail === undefined ? {} : { detail: status.detail }),
    intervalMs: status.intervalMs,
    containers: usage.map((u) => ({
      taskArn: u.taskArn,
      taskFamily: u.taskFamily,
      container: u.container,
      dockerId: u.dockerId,
      cpuPercent: u.cpuPercent,
      memoryUsageBytes: u.memoryUsageBytes,
      memoryLimitBytes: u.memoryLimitBytes,
      network: u.network,
      blockIo: u.blockIo,
      sampledAt: new Date(u.sampledAt).toISOString(),
    })),
  };
}

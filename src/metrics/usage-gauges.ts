import { Gauge, type Registry } from 'prom-client';
import type { ContainerUsage } from '../engine/stats/container-usage.js';

/** The latest usage of the containers running now (StatsPoller.latest), read at every scrape. */
export type UsageSource = () => readonly ContainerUsage[];

type UsageLabel = 'task_arn' | 'task_family' | 'container';
const LABELS: readonly UsageLabel[] = ['task_arn', 'task_family', 'container'];

/** Metric name (after the prefix), help, and the figure (null: no series for that container). */
const FIGURES: ReadonlyArray<readonly [string, string, (u: ContainerUsage) => number | null]> = [
  ['container_cpu_percent', 'CPU use between the last two samples, in % of one CPU (200: two CPUs busy), as docker stats shows it.', (u) => u.cpuPercent],
  ['container_memory_usage_bytes', 'Memory in use less the page cache (inactive_file), as docker stats shows it.', (u) => u.memoryUsageBytes],
  ['container_memory_limit_bytes', "The container's memory limit, or the host's memory when it has none.", (u) => u.memoryLimitBytes],
  ['container_network_rx_bytes', 'Bytes received on all the container\'s interfaces since it started.', (u) => u.network.rxBytes],
  ['container_network_tx_bytes', 'Bytes sent on all the container\'s interfaces since it started.', (u) => u.network.txBytes],
  ['container_block_read_bytes', 'Bytes read from block devices since the container started.', (u) => u.blockIo.readBytes],
  ['container_block_write_bytes', 'Bytes written to block devices since the container started.', (u) => u.blockIo.writeBytes],
];

/**
 * One gauge per figure, labelled `task_arn`, `task_family` and `container` (two tasks of one
 * family would collide without the arn). Filled from the source at each scrape and only from it:
 * a container that stopped, or whose task went, has no series any more. CPU % has no series until
 * a container's second sample.
 */
export function registerUsageGauges(registry: Registry, prefix: string, source: UsageSource): void {
  for (const [name, help, figure] of FIGURES) {
    new Gauge<UsageLabel>({
      name: `${prefix}${name}`,
      help,
      labelNames: [...LABELS],
      registers: [registry],
      collect() {
        this.reset();
        for (const u of source()) {
          const value = figure(u);
          if (value !== null) this.set({ task_arn: u.taskArn, task_family: u.taskFamily, container: u.container }, value);
        }
      },
    });
  }
}

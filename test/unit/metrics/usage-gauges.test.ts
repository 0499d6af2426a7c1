import { describe, expect, it } from 'vitest';
import type { ContainerUsage } from '../../../src/engine/stats/container-usage.js';
import { AgentMetrics } from '../../../src/metrics/metrics.js';

const usage = (taskArn: string, cpuPercent: number | null): ContainerUsage => ({
  taskArn,
  taskFamily: 'web',
  container: 'app',
  dockerId: 'd',
  cpuPercent,
  memoryUsageBytes: 1_000,
  memoryLimitBytes: 2_000,
  network: { rxBytes: 3, txBytes: 4 },
  blockIo: { readBytes: 5, writeBytes: 6 },
  sampledAt: 0,
});

/** `name{labels} value` lines of the berth_container_* metrics. */
async function containerLines(metrics: AgentMetrics): Promise<string[]> {
  return (await metrics.render()).body.split('\n').filter((l) => l.startsWith('berth_container_'));
}

describe('container usage gauges', () => {
  it('show each running container sampled, labelled by task arn, family and container; CPU % once it is known', async () => {
    const metrics = new AgentMetrics({ defaultMetrics: false });
    let latest: ContainerUsage[] = [usage('arn:a', 12.5), usage('arn:b', null)];
    metrics.setUsageSource(() => latest);
    const a = 'task_arn="arn:a",task_family="web",container="app"';
    const b = 'task_arn="arn:b",task_family="web",container="app"';
    expect(await containerLines(metrics)).toEqual([
      `berth_container_cpu_percent{${a}} 12.5`,
      `berth_container_memory_usage_bytes{${a}} 1000`,
      `berth_container_memory_usage_bytes{${b}} 1000`,
      `berth_container_memory_limit_bytes{${a}} 2000`,
      `berth_container_memory_limit_bytes{${b}} 2000`,
      `berth_container_network_rx_bytes{${a}} 3`,
      `berth_container_network_rx_bytes{${b}} 3`,
      `berth_container_network_tx_bytes{${a}} 4`,
      `berth_container_network_tx_bytes{${b}} 4`,
      `berth_container_block_read_bytes{${a}} 5`,
      `berth_container_block_read_bytes{${b}} 5`,
      `berth_container_block_write_bytes{${a}} 6`,
      `berth_container_block_write_bytes{${b}} 6`,
    ]);

    latest = [usage('arn:b', 80)];
    const after = await containerLines(metrics);
    expect(after.filter((l) => l.includes('arn:a'))).toEqual([]);
    expect(after).toContain(`berth_container_cpu_percent{${b}} 80`);
  });

  it('have no series before a source is set or while nothing is sampled, and say what they are', async () => {
    const metrics = new AgentMetrics({ defaultMetrics: false });
    expect(await containerLines(metrics)).toEqual([]);
    const body = (await metrics.render()).body;
    expect(body).toContain('# TYPE berth_container_cpu_percent gauge');
    expect(body).toContain('# HELP berth_container_memory_usage_bytes Memory in use less the page cache');
  });
});

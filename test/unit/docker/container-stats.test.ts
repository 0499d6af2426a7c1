import { describe, expect, it } from 'vitest';
import { isZeroRead, toContainerStats, type DockerStatsJson } from '../../../src/docker/container-stats.js';

// Trimmed from Docker 20.10 on a cgroup v1 host (this machine) and from Docker 24 on cgroup v2.
const V1: DockerStatsJson = {
  read: '2026-12-02T09:19:25.280944057Z',
  pids_stats: { current: 3 },
  blkio_stats: {
    io_service_bytes_recursive: [
      { op: 'Read', value: 4096 },
      { op: 'Write', value: 8192 },
      { op: 'Sync', value: 12288 },
      { op: 'Total', value: 12288 },
      { op: 'Read', value: 100 },
    ],
  },
  cpu_stats: {
    cpu_usage: { total_usage: 55_479_754, percpu_usage: [40_721_746, 14_758_008] },
    system_cpu_usage: 35_903_260_000_000,
    online_cpus: 2,
  },
  memory_stats: { usage: 380_928, stats: { total_inactive_file: 80_928, inactive_file: 1 }, limit: 67_108_864 },
  networks: { eth0: { rx_bytes: 290, tx_bytes: 10 }, eth1: { rx_bytes: 10, tx_bytes: 5 } },
};

const V2: DockerStatsJson = {
  read: '2026-12-02T09:19:25.000Z',
  pids_stats: { current: 1 },
  blkio_stats: { io_service_bytes_recursive: [{ op: 'read', value: 1_000 }, { op: 'write', value: 2_000 }] },
  cpu_stats: { cpu_usage: { total_usage: 1_000 }, system_cpu_usage: 9_000, online_cpus: 4 },
  memory_stats: { usage: 10_000, stats: { inactive_file: 3_000, anon: 7_000 }, limit: 20_000 },
};

describe('toContainerStats', () => {
  it('reads a cgroup v1 sample: usage less total_inactive_file, Read/Write summed, networks summed', () => {
    expect(toContainerStats(V1)).toEqual({
      cpuTotalNs: 55_479_754,
      systemCpuNs: 35_903_260_000_000,
      onlineCpus: 2,
      memoryUsageBytes: 300_000,
      memoryLimitBytes: 67_108_864,
      network: { rxBytes: 300, txBytes: 15 },
      blockIo: { readBytes: 4196, writeBytes: 8192 },
      pids: 3,
      readAt: Date.parse('2026-12-02T09:19:25.280Z'),
    });
  });

  it('reads a cgroup v2 sample: usage less inactive_file, lower-case ops', () => {
    expect(toContainerStats(V2)).toMatchObject({
      memoryUsageBytes: 7_000,
      memoryLimitBytes: 20_000,
      blockIo: { readBytes: 1_000, writeBytes: 2_000 },
      onlineCpus: 4,
      network: { rxBytes: 0, txBytes: 0 },
    });
  });

  it('keeps the usage whole when the cache figure is missing or larger, and counts CPUs from percpu_usage without online_cpus', () => {
    const stats = toContainerStats({
      read: V2.read!,
      cpu_stats: { cpu_usage: { total_usage: 5, percpu_usage: [1, 2, 2] } },
      memory_stats: { usage: 100, stats: { inactive_file: 500 } },
      blkio_stats: { io_service_bytes_recursive: null },
    });
    expect(stats).toMatchObject({ memoryUsageBytes: 100, onlineCpus: 3, blockIo: { readBytes: 0, writeBytes: 0 } });
    expect(stats.systemCpuNs).toBeUndefined();
    expect(stats.pids).toBeUndefined();
  });

  it("knows Docker's zero sample of a container that is not running", () => {
    expect(isZeroRead({ read: '0001-01-01T00:00:00Z' })).toBe(true);
    expect(isZeroRead({})).toBe(true);
    expect(isZeroRead(V1)).toBe(false);
  });
});

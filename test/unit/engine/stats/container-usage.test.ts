import { describe, expect, it } from 'vitest';
import type { ContainerStats } from '../../../../src/docker/docker-client.js';
import { cpuPercent, usageOf } from '../../../../src/engine/stats/container-usage.js';

const sample = (cpuTotalNs: number, systemCpuNs: number | undefined, onlineCpus = 4): ContainerStats => ({
  cpuTotalNs,
  ...(systemCpuNs === undefined ? {} : { systemCpuNs }),
  onlineCpus,
  memoryUsageBytes: 1,
  memoryLimitBytes: 2,
  network: { rxBytes: 3, txBytes: 4 },
  blockIo: { readBytes: 5, writeBytes: 6 },
  readAt: 7,
});

describe('cpuPercent', () => {
  it("is Docker's formula: the container's CPU delta over the host's, times the CPUs online", () => {
    // 1 s of CPU time over 4 s of the host's four CPUs (1 s of wall time): one CPU busy.
    expect(cpuPercent(sample(1e9, 10e9), sample(2e9, 14e9))).toBe(100);
    expect(cpuPercent(sample(0, 0, 2), sample(5e6, 40e6, 2))).toBe(25);
    expect(cpuPercent(sample(7, 0), sample(7, 10))).toBe(0);
  });

  it('is null for a first sample, a restarted counter, no host time or no time passed', () => {
    expect(cpuPercent(undefined, sample(1, 1))).toBeNull();
    expect(cpuPercent(sample(10, 10), sample(5, 20))).toBeNull();
    expect(cpuPercent(sample(1, undefined), sample(2, undefined))).toBeNull();
    expect(cpuPercent(sample(1, 10), sample(2, 10))).toBeNull();
  });
});

describe('usageOf', () => {
  it('names the container and carries the figures and the time of the current sample', () => {
    const target = { taskArn: 'arn:a', taskFamily: 'web', container: 'app', dockerId: 'd1' };
    expect(usageOf(target, sample(0, 0), sample(1e9, 4e9))).toEqual({
      ...target,
      cpuPercent: 100,
      memoryUsageBytes: 1,
      memoryLimitBytes: 2,
      network: { rxBytes: 3, txBytes: 4 },
      blockIo: { readBytes: 5, writeBytes: 6 },
      sampledAt: 7,
    });
  });
});

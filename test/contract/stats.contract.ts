import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContainerSpec, ContainerStats, DockerClient } from '../../src/docker/docker-client.js';
import { ContainerNotFoundError, ContainerNotRunningError } from '../../src/errors.js';

export interface StatsContractSetup {
  readonly client: DockerClient;
  /** An image the client holds (or can pull) with `sh`. */
  readonly image: string;
  /** Put on every container the suite creates, so `cleanup` can find them. */
  readonly labels: Record<string, string>;
  cleanup(): Promise<void>;
}

const BUSY = ['sh', '-c', 'while :; do :; done'];
const IDLE = ['sleep', '300'];
const LIMIT = 64 * 1024 * 1024;

/** What every StatsClient must do (`containerStats`), against the fake (unit) and dockerode on real Docker (integration). */
export function describeStatsContract(name: string, setup: () => StatsContractSetup): void {
  describe(`StatsClient contract: ${name}`, () => {
    const env = setup();
    const client = env.client;
    const run = randomBytes(4).toString('hex');
    let count = 0;
    afterAll(() => env.cleanup());

    const spec = (overrides: Partial<ContainerSpec> = {}): ContainerSpec => ({
      name: `berth-stats-${run}-${++count}`,
      image: env.image,
      command: IDLE,
      env: {},
      labels: env.labels,
      portMappings: [],
      stopTimeout: 1,
      ...overrides,
    });
    const started = async (overrides: Partial<ContainerSpec> = {}): Promise<string> => {
      await client.pullImage(env.image);
      const id = await client.createContainer(spec(overrides));
      await client.startContainer(id);
      return id;
    };

    it('samples a busy container: its CPU time rises between reads, its memory limit is the one it was given', async () => {
      const id = await started({ command: BUSY, memoryBytes: LIMIT });
      const before = Date.now();
      const first = await client.containerStats(id);
      expect(first.memoryLimitBytes).toBe(LIMIT);
      expect(first.memoryUsageBytes).toBeGreaterThan(0);
      expect(first.memoryUsageBytes).toBeLessThanOrEqual(LIMIT);
      expect(first.onlineCpus).toBeGreaterThanOrEqual(1);
      expect(Math.abs(first.readAt - before)).toBeLessThan(60_000);
      for (const n of [first.network.rxBytes, first.network.txBytes, first.blockIo.readBytes, first.blockIo.writeBytes]) {
        expect(n).toBeGreaterThanOrEqual(0);
      }
      const later = await readUntil(client, id, (s) => s.cpuTotalNs > first.cpuTotalNs);
      expect(later.cpuTotalNs).toBeGreaterThan(first.cpuTotalNs);
      expect(later.readAt).toBeGreaterThanOrEqual(first.readAt);
      if (first.systemCpuNs !== undefined) expect(later.systemCpuNs).toBeGreaterThan(first.systemCpuNs);
      await client.stopContainer(id, 0);
      await client.removeContainer(id);
    });

    it("reports the host's memory as the limit of a container without one", async () => {
      const id = await started();
      const stats = await client.containerStats(id);
      expect(stats.memoryLimitBytes).toBeGreaterThan(LIMIT);
      await client.stopContainer(id, 0);
      await client.removeContainer(id);
    });

    it('answers ContainerNotRunningError for a container created or exited, ContainerNotFoundError once it is gone', async () => {
      await client.pullImage(env.image);
      const id = await client.createContainer(spec());
      await expect(client.containerStats(id)).rejects.toBeInstanceOf(ContainerNotRunningError);
      await client.startContainer(id);
      await client.stopContainer(id, 0);
      await expect(client.containerStats(id)).rejects.toBeInstanceOf(ContainerNotRunningError);
      await client.removeContainer(id);
      const gone = await client.containerStats(id).catch((e: unknown) => e);
      expect(gone).toBeInstanceOf(ContainerNotFoundError);
      expect(gone).toMatchObject({ retryable: false });
    });

    it("ends at once when the caller's signal is already aborted", async () => {
      const id = await started();
      const abort = new AbortController();
      abort.abort();
      await expect(client.containerStats(id, abort.signal)).rejects.toThrow(/cancelled/);
      await client.stopContainer(id, 0);
      await client.removeContainer(id);
    });
  });
}

/** Reads again until `done` holds (Docker's CPU counters move in scheduler ticks), for at most 10 s. */
async function readUntil(client: DockerClient, id: string, done: (s: ContainerStats) => boolean): Promise<ContainerStats> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const stats = await client.containerStats(id);
    if (done(stats) || Date.now() > deadline) return stats;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

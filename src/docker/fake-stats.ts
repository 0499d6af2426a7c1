import type { ContainerStats } from './docker-client.js';

/** The fake host's memory: the limit a container without one reports, as Docker reports the host's. */
export const FAKE_HOST_MEMORY_BYTES = 8 * 1024 ** 3;
const FAKE_CPUS = 2;
/** CPU time a running fake container uses between two reads, and the host's (all CPUs) over the same span: 50 %. */
const CPU_NS_PER_READ = 10_000_000;
const SYSTEM_NS_PER_READ = FAKE_CPUS * 20_000_000;

/**
 * FakeDocker's usage figures. A running container is a steady busy process: every read finds
 * 10 ms more CPU time (counted from its last start, as a new cgroup is) against 40 ms of the
 * host's two CPUs, 4 MiB of memory, its memory limit or the host's 8 GiB, and no I/O.
 * `set` pins any figure, for tests that need particular numbers.
 */
export class FakeStats {
  private readonly reads = new Map<string, number>();
  private readonly pinned = new Map<string, Partial<ContainerStats>>();

  set(id: string, stats: Partial<ContainerStats>): void {
    this.pinned.set(id, { ...this.pinned.get(id), ...stats });
  }

  /** A (re)start: the counters begin again. */
  started(id: string): void {
    this.reads.set(id, 0);
  }

  forget(id: string): void {
    this.reads.delete(id);
    this.pinned.delete(id);
  }

  read(id: string, memoryLimitBytes: number | undefined, now: number): ContainerStats {
    const n = (this.reads.get(id) ?? 0) + 1;
    this.reads.set(id, n);
    return {
      cpuTotalNs: n * CPU_NS_PER_READ,
      systemCpuNs: n * SYSTEM_NS_PER_READ,
      onlineCpus: FAKE_CPUS,
      memoryUsageBytes: 4 * 1024 ** 2,
      memoryLimitBytes: memoryLimitBytes ?? FAKE_HOST_MEMORY_BYTES,
      network: { rxBytes: 0, txBytes: 0 },
      blockIo: { readBytes: 0, writeBytes: 0 },
      pids: 1,
      readAt: now,
      ...this.pinned.get(id),
    };
  }
}

import type { TaskState } from '../../api/task.js';
import type { ContainerStats, StatsClient } from '../../docker/docker-client.js';
import { ContainerNotFoundError, ContainerNotRunningError, errorMessage } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { StatsConfig } from '../../config/config.js';
import type { Clock } from '../../util/clock.js';
import { Periodic } from '../../util/periodic.js';
import { usageOf, type ContainerUsage, type UsageTarget } from './container-usage.js';

/** Whether sampling runs, and why not when it does not (GET /v1/stats says it). */
export interface StatsStatus {
  readonly enabled: boolean;
  readonly intervalMs: number;
  readonly detail?: string;
}

interface Sample {
  readonly raw: ContainerStats;
  readonly usage: ContainerUsage;
}

/**
 * Samples the usage of the running containers of the agent's tasks every `intervalMs`, as
 * `docker stats` does, with at most `concurrency` Docker calls at once. The calls grow with the
 * containers, so sampling is off while more than `maxTasks` tasks have a running container (0:
 * always off); it resumes, and says so once, when they are fewer again.
 *
 * Only the latest sample of each container is kept (with the one before, for CPU %), in memory.
 * What is read back is checked against the tasks as they are now: a container that stopped or
 * whose task went is gone from `latest()` at once, not at the next pass.
 */
export class StatsPoller {
  /** By Docker ID: a restarted incarnation is a new container, with fresh counters. */
  private readonly samples = new Map<string, Sample>();
  private readonly periodic: Periodic;
  private readonly abort = new AbortController();
  /** Undefined until the first pass decides. */
  private on: boolean | undefined;
  private offDetail: string | undefined;
  private failing = false;

  constructor(
    private readonly docker: StatsClient,
    private readonly tasks: () => readonly TaskState[],
    private readonly opts: { clock: Clock; policy: StatsConfig; log: Logger },
  ) {
    this.periodic = new Periodic(opts.clock, { intervalMs: opts.policy.intervalMs, firstDelayMs: 0 }, () => this.runOnce(), (error) =>
      opts.log.debug('Stats pass skipped', { error: errorMessage(error) }),
    );
  }

  start(): void {
    if (this.opts.policy.maxTasks === 0) {
      this.offDetail = 'off by configuration (stats max tasks 0)';
      this.opts.log.info('Container stats are off: stats max tasks is 0');
      return;
    }
    this.periodic.start();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.periodic.stop();
  }

  status(): StatsStatus {
    const { intervalMs } = this.opts.policy;
    return this.offDetail === undefined ? { enabled: true, intervalMs } : { enabled: false, intervalMs, detail: this.offDetail };
  }

  /** The latest usage of every container running now, in task order. */
  latest(): ContainerUsage[] {
    return this.tasks().flatMap((t) => this.usageOfTask(t));
  }

  /** The latest usage of the task's containers running now. */
  usageOfTask(task: TaskState): ContainerUsage[] {
    return targetsOf(task).flatMap((t) => {
      const sample = this.samples.get(t.dockerId);
      return sample ? [sample.usage] : [];
    });
  }

  /** One pass: every running container sampled once. */
  async runOnce(): Promise<void> {
    const tasks = this.tasks();
    const targets = tasks.flatMap(targetsOf);
    const busyTasks = new Set(targets.map((t) => t.taskArn)).size;
    if (!this.switchTo(busyTasks <= this.opts.policy.maxTasks, busyTasks)) {
      this.samples.clear();
      return;
    }
    const wanted = new Set(targets.map((t) => t.dockerId));
    for (const id of this.samples.keys()) if (!wanted.has(id)) this.samples.delete(id);
    const failures: Array<{ target: UsageTarget; error: unknown }> = [];
    await eachBounded(targets, this.opts.policy.concurrency, async (target) => {
      try {
        const raw = await this.docker.containerStats(target.dockerId, this.abort.signal);
        this.samples.set(target.dockerId, { raw, usage: usageOf(target, this.samples.get(target.dockerId)?.raw, raw) });
      } catch (error) {
        // A figure that cannot be read now is not shown stale.
        this.samples.delete(target.dockerId);
        // Stopped between the listing and the call: the engine hears of it by its own means.
        if (error instanceof ContainerNotRunningError || error instanceof ContainerNotFoundError || this.abort.signal.aborted) return;
        failures.push({ target, error });
      }
    });
    this.noteFailures(failures);
  }

  /** Says once when sampling goes off or comes back; answers whether it is on. */
  private switchTo(on: boolean, busyTasks: number): boolean {
    const { maxTasks } = this.opts.policy;
    this.offDetail = on ? undefined : `off while more than ${maxTasks} tasks have a running container (now ${busyTasks})`;
    if (on === this.on) return on;
    if (!on) this.opts.log.warn('Container stats are off: too many tasks have a running container', { tasks: busyTasks, statsMaxTasks: maxTasks });
    else if (this.on === false) this.opts.log.info('Container stats are on again', { tasks: busyTasks, statsMaxTasks: maxTasks });
    this.on = on;
    return on;
  }

  /** Once per streak of failing passes, not every interval while Docker is down. */
  private noteFailures(failures: ReadonlyArray<{ target: UsageTarget; error: unknown }>): void {
    const first = failures[0];
    if (first && !this.failing) {
      this.opts.log.warn('Could not read container stats', {
        failed: failures.length,
        taskArn: first.target.taskArn,
        container: first.target.container,
        dockerId: first.target.dockerId,
        error: errorMessage(first.error),
      });
    }
    this.failing = first !== undefined;
  }
}

function targetsOf(task: TaskState): UsageTarget[] {
  return task.containers.flatMap((c) =>
    c.knownStatus === 'RUNNING' && c.dockerId !== undefined
      ? [{ taskArn: task.arn, taskFamily: task.family, container: c.definition.name, dockerId: c.dockerId }]
      : [],
  );
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function eachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

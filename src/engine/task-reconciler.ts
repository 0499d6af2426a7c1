import type PQueue from 'p-queue';
import type { TaskState } from '../api/task.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Clock, Random, TimerHandle } from '../util/clock.js';
import type { Outcome } from './actions.js';
import type { Executor } from './executor.js';
import { formatPlan, plan } from './planner.js';
import { decideRetry, type RetryPolicy } from './retry-policy.js';
import type { StateStore } from './state-store.js';
import { applyGiveUp, applyOutcome } from './transitions.js';

export interface ReconcilerDeps {
  readonly store: StateStore;
  readonly executor: Executor;
  readonly queue: PQueue;
  readonly clock: Clock;
  readonly random: Random;
  readonly retry: RetryPolicy;
  readonly cleanupWaitMs: number;
  readonly log: Logger;
  /** Called once the task has left the state (cleaned up). */
  readonly onForgotten: (arn: string) => void;
}

/**
 * The one serial loop of a task. Each step observes the task, plans, performs the plan and saves
 * the outcomes, then schedules the next step. Steps of one task never overlap; a trigger that
 * arrives during a step is remembered once (a newer request replaces a pending one). Steps of
 * different tasks run concurrently through the shared, bounded queue.
 */
export class TaskReconciler {
  /** Containers to read back from Docker before acting on them. */
  private readonly refresh = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private readonly retryAt = new Map<string, number>();
  private queued = false;
  private running = false;
  private pending = false;
  private closed = false;
  private timer: { handle: TimerHandle; at: number } | undefined;
  private readonly log: Logger;

  constructor(
    readonly arn: string,
    private readonly deps: ReconcilerDeps,
  ) {
    this.log = deps.log.child({ taskArn: arn });
  }

  /** Asks for the container's real state to be read from Docker on the next step. */
  markForRefresh(container: string): void {
    this.refresh.add(container);
  }

  trigger(): void {
    if (this.closed) return;
    if (this.queued || this.running) {
      this.pending = true;
      return;
    }
    this.queued = true;
    this.deps.queue
      .add(() => this.step())
      .catch((error: unknown) => this.log.error('Reconcile step failed unexpectedly', { error: errorMessage(error) }));
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
  }

  private async step(): Promise<void> {
    this.queued = false;
    this.running = true;
    this.pending = false;
    let again = false;
    try {
      again = await this.stepOnce();
    } finally {
      this.running = false;
      if (again || this.pending) this.trigger();
    }
  }

  /** Returns whether another step should follow at once. */
  private async stepOnce(): Promise<boolean> {
    const task = this.deps.store.get(this.arn);
    if (!task) {
      this.close();
      this.deps.onForgotten(this.arn);
      return false;
    }
    const now = this.deps.clock.now();
    const next = plan({ task, now, cleanupWaitMs: this.deps.cleanupWaitMs, refresh: this.refresh, retryAt: this.retryAt });
    if (next.wakeAt !== undefined) this.wakeAt(next.wakeAt);
    if (next.actions.length === 0) return false;
    this.log.debug('Plan', { plan: formatPlan(next) });

    for (const a of next.actions) if (a.kind === 'inspect') this.refresh.delete(a.container);
    const outcomes = await Promise.all(next.actions.map((a) => this.deps.executor.run(task, a)));
    try {
      await this.deps.store.mutate(this.arn, (current) => (current ? this.applyAll(current, outcomes) : undefined));
    } catch (error) {
      // Docker may have acted, but the state did not move: the next step repeats the same actions,
      // which are safe to repeat (a second create finds the first container by its name).
      this.log.error('Failed to save the outcome of a step; retrying', { error: errorMessage(error) });
      this.wakeAt(this.deps.clock.now() + this.deps.retry.backoff.initialMs);
      return false;
    }
    return true;
  }

  /** Folds every outcome of a step into the task, deciding retries for the failures. */
  private applyAll(task: TaskState, outcomes: readonly Outcome[]): TaskState | 'forget' {
    let next: TaskState | 'forget' = task;
    const now = this.deps.clock.now();
    for (const o of outcomes) {
      if (next === 'forget') break;
      const name = o.kind === 'cleaned' ? undefined : o.container;
      if (o.kind !== 'failed') {
        if (name) this.clearRetry(name);
        next = applyOutcome(next, o, now);
        continue;
      }
      const key = name ?? '';
      const attempt = (this.attempts.get(key) ?? 0) + 1;
      const decision = decideRetry(this.deps.retry, o.action, o.error, attempt, this.deps.random);
      if (decision.kind === 'retry') {
        this.attempts.set(key, attempt);
        this.retryAt.set(key, now + decision.delayMs);
        if (o.action === 'inspect' && name) this.refresh.add(name);
        this.log.warn(`Retrying ${o.action} in ${decision.delayMs} ms`, { container: name, attempt, error: errorMessage(o.error) });
      } else if (name) {
        this.clearRetry(name);
        this.log.error(`Giving up on ${o.action}`, { container: name, attempt, error: errorMessage(o.error) });
        next = applyGiveUp(next, name, o.action, o.error, now);
      }
    }
    return next;
  }

  private clearRetry(name: string): void {
    this.attempts.delete(name);
    this.retryAt.delete(name);
  }

  private wakeAt(at: number): void {
    if (this.closed || (this.timer && this.timer.at <= at)) return;
    this.clearTimer();
    const handle = this.deps.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.trigger();
      },
      Math.max(0, at - this.deps.clock.now()),
    );
    handle.unref?.();
    this.timer = { handle, at };
  }

  private clearTimer(): void {
    if (this.timer) this.deps.clock.clearTimeout(this.timer.handle);
    this.timer = undefined;
  }
}

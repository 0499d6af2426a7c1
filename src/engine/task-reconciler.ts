import type PQueue from 'p-queue';
import type { TaskState } from '../api/task.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { backoffDelay } from '../util/backoff.js';
import type { Clock, Random, TimerHandle } from '../util/clock.js';
import { actionTarget, type Action, type ActionKind, type Outcome } from './actions.js';
import { FailureLog } from './failure-log.js';
import type { Executor } from './executor.js';
import { CLEANUP_KEY, formatPlan, plan } from './planner.js';
import { decideRetry, type RetryDecision, type RetryPolicy } from './retry-policy.js';
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
  /**
   * Failures so far per container (or CLEANUP_KEY) and action, and when each may be tried again.
   * Keyed by action so that the re-read that follows a failed start cannot clear the start's
   * record: only a start that works (or the container moving on) does.
   */
  private readonly failures = new FailureLog();
  /** Steps in a row that found the state database refusing writes; the wait grows with it. */
  private saveFailures = 0;
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
    // Queued before close(): starting Docker work now would only delay the shutdown.
    if (this.closed) return;
    this.running = true;
    this.pending = false;
    let again = false;
    try {
      again = await this.stepOnce();
    } catch (error) {
      this.log.error('Reconcile step failed; retrying', { error: errorMessage(error) });
      this.wakeAt(this.deps.clock.now() + this.deps.retry.backoff.initialMs);
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
    const next = plan({ task, now, cleanupWaitMs: this.deps.cleanupWaitMs, refresh: this.refresh, retryAt: this.failures.retryAt() });
    if (next.wakeAt !== undefined) this.wakeAt(next.wakeAt);
    if (next.actions.length === 0) return false;
    // What Docker did now could not be recorded: wait for the database instead of acting blind.
    if (!(await this.deps.store.writable())) {
      this.waitForDatabase();
      return false;
    }
    this.log.debug('Plan', { plan: formatPlan(next) });

    for (const a of next.actions) if (a.kind === 'inspect') this.refresh.delete(a.container);
    const outcomes = await Promise.all(next.actions.map((a) => this.deps.executor.run(task, a)));
    const decisions = outcomes.map((o) => this.decide(o));
    let saved;
    try {
      saved = await this.deps.store.mutate(this.arn, (current) => (current ? this.applyAll(current, outcomes, decisions) : undefined));
    } catch (error) {
      // Docker may have acted, but the state did not move: re-read every container acted on
      // before acting again, so a container made meanwhile is adopted rather than made twice.
      for (const a of next.actions) if (a.kind !== 'cleanup') this.refresh.add(a.container);
      this.log.error('Failed to save the outcome of a step; retrying', { error: errorMessage(error) });
      this.waitForDatabase();
      return false;
    }
    this.saveFailures = 0;
    this.failures.forgetMoved(saved.before, saved.after);
    this.recordFailures(next.actions, outcomes, decisions, now);
    const learned = saved.before !== saved.after || next.actions.some((a) => a.kind === 'inspect') || outcomes.some((o) => o.kind === 'failed');
    if (!learned) {
      // Actions that changed nothing would be planned again at once: back off instead of spinning.
      this.log.warn('A step changed nothing; backing off', { plan: formatPlan(next) });
      this.wakeAt(this.deps.clock.now() + this.deps.retry.backoff.maxMs);
      return false;
    }
    return true;
  }

  /** Pure: what to do about a failed outcome, from the failures recorded so far. */
  private decide(o: Outcome): RetryDecision | undefined {
    if (o.kind !== 'failed') return undefined;
    const before = this.failures.count(o.container ?? CLEANUP_KEY, o.action);
    return decideRetry(this.deps.retry, o.action, o.error, before, this.deps.random);
  }

  /** Folds every outcome of a step into the task; failures given up stop their container. */
  private applyAll(task: TaskState, outcomes: readonly Outcome[], decisions: readonly (RetryDecision | undefined)[]): TaskState | 'forget' {
    let next: TaskState | 'forget' = task;
    const now = this.deps.clock.now();
    outcomes.forEach((o, i) => {
      if (next === 'forget') return;
      if (o.kind !== 'failed') next = applyOutcome(next, o, now);
      else if (decisions[i]?.kind === 'give-up' && o.container) next = applyGiveUp(next, o.container, o.action, o.error, now);
    });
    return next;
  }

  /** After the step is saved: remember retries, forget failures that cleared. */
  private recordFailures(
    actions: readonly Action[],
    outcomes: readonly Outcome[],
    decisions: readonly (RetryDecision | undefined)[],
    now: number,
  ): void {
    outcomes.forEach((o, i) => {
      const action = actions[i]!;
      const target = actionTarget(action) ?? CLEANUP_KEY;
      const decision = decisions[i];
      if (o.kind !== 'failed') {
        this.failures.forget(target, action.kind);
        return;
      }
      if (decision === undefined || decision.kind === 'give-up') {
        this.failures.forget(target, o.action);
        this.log.error(`Giving up on ${o.action}`, { container: o.container, error: errorMessage(o.error) });
        return;
      }
      this.failures.record(target, o.action, { count: decision.count, at: now + decision.delayMs });
      // A failed create, start or stop may still have happened in Docker; a failed inspect learned
      // nothing. Read the container again before acting on it.
      if (REREAD_AFTER_FAILURE.has(o.action) && o.container) this.refresh.add(o.container);
      this.log.warn(`Retrying ${o.action} in ${decision.delayMs} ms`, {
        container: o.container,
        attempt: decision.count.streak,
        error: errorMessage(o.error),
      });
    });
  }

  private waitForDatabase(): void {
    const delay = backoffDelay(this.deps.retry.backoff, this.saveFailures, this.deps.random);
    this.saveFailures += 1;
    this.wakeAt(this.deps.clock.now() + delay);
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

const REREAD_AFTER_FAILURE: ReadonlySet<ActionKind> = new Set<ActionKind>(['create', 'start', 'stop', 'inspect']);

import type PQueue from 'p-queue';
import type { TaskState } from '../api/task.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { backoffDelay } from '../util/backoff.js';
import type { Clock, Random, TimerHandle } from '../util/clock.js';
import { actionTarget, failureTarget, type Action, type ActionKind, type Outcome } from './actions.js';
import type { Executor } from './executor.js';
import { FailureLog } from './failure-log.js';
import { formatPlan, plan } from './planner.js';
import { decideRetry, NO_FAILURES, type RetryDecision, type RetryPolicy } from './retry-policy.js';
import type { StateStore } from './state-store.js';
import { applyGiveUp, applyOutcome } from './transitions.js';

export interface ReconcilerDeps {
  readonly store: StateStore;
  readonly executor: Executor;
  /** The reconcile slots: one plan step of one task holds one, briefly. */
  readonly queue: PQueue;
  /** Bounds the short Docker calls in flight across all tasks; long ones (pulls, stops) never take a slot. */
  readonly calls: PQueue;
  readonly clock: Clock;
  readonly random: Random;
  readonly retry: RetryPolicy;
  readonly cleanupWaitMs: number;
  /** --recreate-on-drift (src/engine/drift/). */
  readonly recreateOnDrift: boolean;
  /** Told once per container found drifted (the metric). */
  readonly onDrift: () => void;
  readonly log: Logger;
  /** Called once the task has left the state (cleaned up). */
  readonly onForgotten: (arn: string) => void;
  /** Told when an action starts and when it has been recorded (the engine's idle tracking). */
  readonly onActivity: (delta: 1 | -1) => void;
}

/** Actions whose Docker call can take minutes (a pull, a stop with a long stopTimeout, a cleanup or retirement that stops). */
const LONG: ReadonlySet<ActionKind> = new Set<ActionKind>(['pull', 'stop', 'cleanup', 'retire']);

/** A failed create, start or stop may still have happened in Docker; a failed inspect learned nothing. Re-read before acting again. */
const REREAD_AFTER_FAILURE: ReadonlySet<ActionKind> = new Set<ActionKind>(['create', 'start', 'stop', 'inspect']);

interface Running {
  readonly kind: ActionKind;
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

/**
 * - `idle`: nothing scheduled; a trigger queues a step.
 * - `queued`: a step waits for a reconcile slot; further triggers are absorbed by it.
 * - `stepping`: a step is planning; a trigger arriving now is remembered once (`again`).
 * - `closed`: no more steps; actions still running are aborted and their outcomes recorded.
 */
type Phase = 'idle' | 'queued' | 'stepping' | 'closed';

/**
 * The loop of one task. A step observes the task, plans for all of it, and launches the planned
 * actions; it does not wait for them, so a slow pull or a long stop never holds a reconcile slot,
 * and a sibling's change is recorded the moment its own action ends. Each container (volume,
 * cleanup) has at most one action running; its outcome is saved as soon as it arrives, and the
 * next step follows. Steps of one task never overlap; a newer trigger replaces a pending one.
 */
export class TaskReconciler {
  /** Containers to read back from Docker before acting on them. */
  private readonly refresh = new Set<string>();
  private readonly failures = new FailureLog();
  private readonly running = new Map<string, Running>();
  /** Steps in a row that found the state database refusing writes; the wait grows with it. */
  private saveFailures = 0;
  private phase: Phase = 'idle';
  private again = false;
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
    switch (this.phase) {
      case 'closed':
      case 'queued':
        return;
      case 'stepping':
        this.again = true;
        return;
      case 'idle':
        this.phase = 'queued';
        this.deps.queue
          .add(() => this.step())
          .catch((error: unknown) => this.log.error('Reconcile step failed unexpectedly', { error: errorMessage(error) }));
    }
  }

  /** Starts no new work; actions still running are aborted (a pull ends, Docker finishes a stop by itself). */
  close(): void {
    this.phase = 'closed';
    this.clearTimer();
    for (const r of this.running.values()) r.abort.abort();
  }

  /**
   * Resolves once no action of this task is running. Closing waits only for the short ones: a stop
   * may take its whole stopTimeout, Docker finishes it by itself, and the next start re-reads the
   * container; its outcome, arriving after the close, is not recorded.
   */
  async settled(): Promise<void> {
    const waited = (): Running[] => [...this.running.values()].filter((r) => this.phase !== 'closed' || !LONG.has(r.kind));
    for (let pending = waited(); pending.length > 0; pending = waited()) await Promise.all(pending.map((r) => r.done));
  }

  private async step(): Promise<void> {
    // Steps no longer wait for Docker, so a thousand of them would otherwise run back to back in
    // one turn of the event loop and keep the socket from answering: each yields to I/O first.
    await new Promise<void>((resolve) => setImmediate(resolve));
    // Queued before close(): starting Docker work now would only delay the shutdown.
    if (this.phase === 'closed') return;
    this.phase = 'stepping';
    this.again = false;
    try {
      await this.stepOnce();
    } catch (error) {
      this.log.error('Reconcile step failed; retrying', { error: errorMessage(error) });
      this.wakeAt(this.deps.clock.now() + this.deps.retry.backoff.initialMs);
    } finally {
      if (this.phase === 'stepping') {
        this.phase = 'idle';
        if (this.again) this.trigger();
      }
    }
  }

  private async stepOnce(): Promise<void> {
    const task = this.deps.store.get(this.arn);
    if (!task) {
      if (this.running.size > 0) return;
      this.close();
      this.deps.onForgotten(this.arn);
      return;
    }
    const now = this.deps.clock.now();
    const inFlight = new Map([...this.running].map(([key, r]) => [key, r.kind]));
    const next = plan({
      task,
      now,
      cleanupWaitMs: this.deps.cleanupWaitMs,
      refresh: this.refresh,
      retryAt: this.failures.retryAt(),
      inFlight,
      recreateOnDrift: this.deps.recreateOnDrift,
    });
    if (next.wakeAt !== undefined) this.wakeAt(next.wakeAt);
    if (next.actions.length === 0) return;
    // What Docker did now could not be recorded: wait for the database instead of acting blind.
    if (!(await this.deps.store.writable())) {
      this.waitForDatabase();
      return;
    }
    this.log.debug('Plan', { plan: formatPlan(next) });
    for (const action of next.actions) {
      if (action.kind === 'cancel') {
        this.log.info('Cancelling pull: the task is stopping', { container: action.container });
        this.running.get(action.container)?.abort.abort();
      } else {
        this.launch(task, action);
      }
    }
  }

  private launch(task: TaskState, action: Action): void {
    if (this.phase === 'closed') return;
    const key = actionTarget(action);
    if (action.kind === 'inspect') this.refresh.delete(action.container);
    const abort = new AbortController();
    // A call still waiting for a slot when the task closes never reaches Docker.
    const perform = async (): Promise<Outcome | undefined> => (abort.signal.aborted ? undefined : this.deps.executor.run(task, action, abort.signal));
    this.deps.onActivity(1);
    const done = (LONG.has(action.kind) ? perform() : this.deps.calls.add(perform))
      .then((outcome) => (outcome ? this.record(action, outcome) : undefined))
      .catch((error: unknown) => {
        this.log.error('Recording an action failed unexpectedly', { action: action.kind, error: errorMessage(error) });
        this.wakeAt(this.deps.clock.now() + this.deps.retry.backoff.initialMs);
      })
      .finally(() => {
        this.running.delete(key);
        this.deps.onActivity(-1);
        this.trigger();
      });
    this.running.set(key, { kind: action.kind, abort, done });
  }

  /** Saves what one action showed, as soon as it ends, and remembers retries. */
  private async record(action: Action, outcome: Outcome): Promise<void> {
    if (this.phase === 'closed' && LONG.has(action.kind)) return;
    const decision = this.decide(outcome);
    let saved;
    try {
      saved = await this.deps.store.mutate(this.arn, (current) => (current ? this.apply(current, outcome, decision) : undefined));
    } catch (error) {
      // Docker may have acted, but the state did not move: re-read the container before acting
      // again, so one made meanwhile is adopted rather than made twice.
      if (action.kind !== 'cleanup' && action.kind !== 'provision-volume') this.refresh.add(actionTarget(action));
      this.log.error('Failed to save the outcome of an action; retrying', { action: action.kind, error: errorMessage(error) });
      this.waitForDatabase();
      return;
    }
    this.saveFailures = 0;
    this.failures.forgetMoved(saved.before, saved.after);
    if (outcome.kind === 'observed') this.reportDrift(saved.before, saved.after, outcome.container);
    const now = this.deps.clock.now();
    const target = actionTarget(action);
    if (outcome.kind !== 'failed') {
      this.failures.forget(target, action.kind);
      if (saved.before === saved.after && action.kind !== 'inspect' && outcome.kind !== 'cancelled' && !this.settledFor(saved.after, target)) {
        // An action that changed nothing would be planned again at once: back off instead of spinning.
        this.log.warn('An action changed nothing; backing off', { action: formatPlan({ actions: [action] }) });
        this.failures.record(target, action.kind, { count: NO_FAILURES, at: now + this.deps.retry.backoff.maxMs });
      }
      return;
    }
    const failedOn = failureTarget(outcome);
    if (decision === undefined || decision.kind === 'give-up') {
      this.failures.forget(failedOn, outcome.action);
      this.log.error(`Giving up on ${outcome.action}`, { ...subject(outcome), error: errorMessage(outcome.error) });
      return;
    }
    this.failures.record(failedOn, outcome.action, { count: decision.count, at: now + decision.delayMs });
    if (REREAD_AFTER_FAILURE.has(outcome.action) && outcome.container) this.refresh.add(outcome.container);
    this.log.warn(`Retrying ${outcome.action} in ${decision.delayMs} ms`, {
      ...subject(outcome),
      attempt: decision.count.streak,
      error: errorMessage(outcome.error),
    });
  }

  /** A container seen drifting for the first time gets one log line; the reason stays in its view. */
  private reportDrift(before: TaskState | undefined, after: TaskState | undefined, name: string): void {
    const was = before?.containers.find((c) => c.definition.name === name);
    const now = after?.containers.find((c) => c.definition.name === name);
    if (!now?.drift || was?.drift) return;
    this.log.warn('Container drifted in Docker', {
      container: name,
      ...(now.dockerId ? { dockerId: now.dockerId } : {}),
      reason: now.drift.code,
      detail: now.drift.message,
      recreating: this.deps.recreateOnDrift,
    });
    this.deps.onDrift();
  }

  /** A container already STOPPED (stopped meanwhile by something else, e.g. its volume failing) expects nothing more. */
  private settledFor(task: TaskState | undefined, target: string): boolean {
    return task?.containers.find((c) => c.definition.name === target)?.knownStatus === 'STOPPED';
  }

  /** Pure: what to do about a failed outcome, from the failures recorded so far. */
  private decide(o: Outcome): RetryDecision | undefined {
    if (o.kind !== 'failed') return undefined;
    return decideRetry(this.deps.retry, o.action, o.error, this.failures.count(failureTarget(o), o.action), this.deps.random);
  }

  /** Folds an outcome into the task; a failure given up stops what it concerns. */
  private apply(task: TaskState, outcome: Outcome, decision: RetryDecision | undefined): TaskState | 'forget' {
    const now = this.deps.clock.now();
    if (outcome.kind !== 'failed') return applyOutcome(task, outcome, now);
    return decision?.kind === 'give-up' ? applyGiveUp(task, outcome, now) : task;
  }

  private waitForDatabase(): void {
    const delay = backoffDelay(this.deps.retry.backoff, this.saveFailures, this.deps.random);
    this.saveFailures += 1;
    this.wakeAt(this.deps.clock.now() + delay);
  }

  private wakeAt(at: number): void {
    if (this.phase === 'closed' || (this.timer && this.timer.at <= at)) return;
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

/** What a failure concerns, for a log line: the container or the volume, whichever it is. */
function subject(o: Extract<Outcome, { kind: 'failed' }>): { container?: string; volume?: string } {
  return { ...(o.container === undefined ? {} : { container: o.container }), ...(o.volume === undefined ? {} : { volume: o.volume }) };
}

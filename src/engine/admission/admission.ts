import { isWaitingForResources, type TaskState } from '../../api/task.js';
import { errorMessage, ValidationError, type FieldIssue } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import type { StateStore } from '../state-store.js';
import { neverFits, neverFitsText, planAdmission } from './admission-plan.js';
import type { HostCapacity } from './host-resources.js';
import { reservationOf, type Reservable } from './reservation.js';

export interface AdmissionDeps {
  readonly store: StateStore;
  readonly capacity: HostCapacity;
  readonly clock: Clock;
  readonly log: Logger;
  /** How long to wait before trying again after the database refused an admission. */
  readonly retryMs: number;
  /** Told once a task's admission is saved: its reconciler may start it. */
  readonly onAdmitted: (arn: string) => void;
}

/**
 * Admits tasks when the host has room (admission-plan.ts has the rule). Nothing is counted here:
 * what is held and what waits is read from the tasks' states every time, so the accounting after a
 * restart is the same function of the same saved state, and can never admit more than fits.
 *
 * Decisions whose save is still in flight are kept in `pending` and overlaid on the saved states,
 * so two decisions made before either is saved still see each other (a new task placed in the
 * same commit as another, a pass running while the last one's admissions are being saved).
 */
export class Admission {
  private readonly pending = new Map<string, TaskState>();
  /** Message rewrites in flight, so a pass does not write the same one twice. */
  private readonly messageWrites = new Map<string, string>();
  private nextPosition = 1;
  private passQueued = false;
  private closed = false;
  private retry: TimerHandle | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: AdmissionDeps) {}

  /** After the saved tasks are loaded: the queue resumes in its saved order, and a pass runs. */
  start(tasks: readonly TaskState[]): void {
    for (const t of tasks) if (t.waiting && t.waiting.position >= this.nextPosition) this.nextPosition = t.waiting.position + 1;
    // A task that stops releases what it held: the head of the queue may fit now.
    this.unsubscribe = this.deps.store.subscribe((e) => {
      if (e.type === 'task' && e.status === 'STOPPED') this.schedulePass();
    });
    this.schedulePass();
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    if (this.retry) this.deps.clock.clearTimeout(this.retry);
    this.retry = undefined;
  }

  /** Refuses a task that could never fit on this host, naming the field that asks too much. */
  checkAdmissible(task: Reservable): void {
    const r = reservationOf(task);
    const issues: FieldIssue[] = neverFits(r, this.deps.capacity).map((n) => {
      const from = n.resource === 'memory' ? r.memoryFrom : r.cpuFrom;
      if (from === 'task') return { path: n.resource, message: `the task needs ${neverFitsText(n)}: it could never be admitted` };
      const field = n.resource === 'memory' ? 'memoryReservation, else memory' : 'cpu';
      return { path: 'containerDefinitions', message: `the containers reserve (${field}, summed) ${neverFitsText(n)}: it could never be admitted` };
    });
    if (issues.length > 0) throw new ValidationError(issues);
  }

  /**
   * A new task, inside the mutation that creates it: admitted at once when nothing waits and it
   * fits, else queued at the tail with what it waits for. Call `settled` once that mutation ends.
   */
  place(task: TaskState): TaskState {
    const candidate: TaskState = { ...task, waiting: { position: this.nextPosition, message: '' } };
    const plan = planAdmission(this.view(candidate), this.deps.capacity);
    let placed: TaskState;
    if (plan.admit.includes(task.arn)) {
      placed = task;
    } else {
      this.nextPosition += 1;
      placed = { ...candidate, waiting: { ...candidate.waiting!, message: plan.waiting.get(task.arn) ?? '' } };
    }
    this.pending.set(task.arn, placed);
    return placed;
  }

  /** The creation mutation of `placed` ended, saved or not. */
  settled(placed: TaskState, saved: boolean): void {
    if (this.pending.get(placed.arn) === placed) this.pending.delete(placed.arn);
    if (saved && placed.waiting) {
      this.deps.log.info('Task waiting for resources', { taskArn: placed.arn, position: placed.waiting.position, waitingFor: placed.waiting.message });
    }
    // A queued task may be admitted by the next pass; an unsaved placement frees what it took.
    if (placed.waiting || !saved) this.schedulePass();
  }

  /** Something may have freed resources or left the queue (a task stopped, a stop request). */
  schedulePass(): void {
    if (this.closed || this.passQueued) return;
    this.passQueued = true;
    // A microtask: the changes that trigger passes together (one commit's) share one pass.
    queueMicrotask(() => {
      this.passQueued = false;
      if (!this.closed) this.pass();
    });
  }

  private pass(): void {
    const plan = planAdmission(this.view(), this.deps.capacity);
    for (const arn of plan.admit) if (!this.pending.has(arn)) this.admit(arn);
    for (const [arn, message] of plan.waiting) {
      const saved = this.deps.store.get(arn)?.waiting;
      if (saved && saved.message !== message && this.messageWrites.get(arn) !== message && !this.pending.has(arn)) this.rewrite(arn, message);
    }
  }

  private admit(arn: string): void {
    const current = this.deps.store.get(arn);
    if (!current || !isWaitingForResources(current)) return;
    const now = this.deps.clock.now();
    const admitted = withoutWait(current, now);
    this.pending.set(arn, admitted);
    this.deps.store
      .mutate(arn, (t) => (t && isWaitingForResources(t) ? withoutWait(t, now) : t))
      .then(
        (result) => {
          this.pending.delete(arn);
          if (result.before === result.after) {
            this.schedulePass();
            return;
          }
          this.deps.log.info('Task admitted', { taskArn: arn });
          this.deps.onAdmitted(arn);
        },
        (error: unknown) => {
          this.pending.delete(arn);
          this.deps.log.warn('Could not save an admission; trying again', { taskArn: arn, error: errorMessage(error) });
          this.retryLater();
        },
      );
  }

  private rewrite(arn: string, message: string): void {
    this.messageWrites.set(arn, message);
    const now = this.deps.clock.now();
    this.deps.store
      .mutate(arn, (t) => (t?.waiting && isWaitingForResources(t) && t.waiting.message !== message ? { ...t, waiting: { ...t.waiting, message }, updatedAt: now } : t))
      .catch(() => this.retryLater())
      .finally(() => {
        if (this.messageWrites.get(arn) === message) this.messageWrites.delete(arn);
      });
  }

  private retryLater(): void {
    if (this.closed || this.retry) return;
    this.retry = this.deps.clock.setTimeout(() => {
      this.retry = undefined;
      this.schedulePass();
    }, this.deps.retryMs);
    this.retry.unref?.();
  }

  /** The saved tasks with the decisions not yet saved laid over them (and `extra`, a task being placed). */
  private view(extra?: TaskState): TaskState[] {
    const out: TaskState[] = [];
    for (const t of this.deps.store.list()) if (!this.pending.has(t.arn) && t.arn !== extra?.arn) out.push(t);
    for (const t of this.pending.values()) if (t.arn !== extra?.arn) out.push(t);
    if (extra) out.push(extra);
    return out;
  }
}

function withoutWait(task: TaskState, now: number): TaskState {
  const { waiting: _waiting, ...rest } = task;
  return { ...rest, updatedAt: now };
}

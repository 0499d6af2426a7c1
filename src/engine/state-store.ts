import type { NewStateChange, StateChange } from '../api/events.js';
import type { TaskState } from '../api/task.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Saver } from '../state/saver.js';
import { stateChanges } from './state-changes.js';

/**
 * The engine's in-memory state, changed only through `mutate`. A mutation computes the next value of
 * one task from its current value; mutations queued while a commit is in flight are applied in order
 * and saved together in one transaction (group commit). Memory and subscribers see a change only
 * after it is saved, so a client that sees event N always finds that state in `get`/`list`.
 */
export type Mutation = (current: TaskState | undefined) => TaskState | 'forget' | undefined;

interface Pending {
  readonly arn: string;
  readonly fn: Mutation;
  readonly resolve: (result: MutationResult) => void;
  readonly reject: (error: unknown) => void;
}

export interface MutationResult {
  readonly before: TaskState | undefined;
  readonly after: TaskState | undefined;
  readonly events: readonly StateChange[];
}

export type ChangeListener = (event: StateChange) => void;

/** A task's value once saved and visible; undefined: the task left the state. */
export type CommitListener = (arn: string, task: TaskState | undefined) => void;

/** Writes have been failing since `since` (epoch ms); `error` is the latest failure. */
export interface WriteFailure {
  readonly since: number;
  readonly error: unknown;
}

/** The meta key a write probe rewrites: a one-row write that proves the database takes writes. */
export const WRITE_PROBE_KEY = 'write-probe-at';

export class StateStore {
  private readonly tasks = new Map<string, TaskState>();
  private readonly byDockerId = new Map<string, { arn: string; container: string }>();
  private readonly listeners = new Set<ChangeListener>();
  private readonly commitListeners = new Set<CommitListener>();
  private queue: Pending[] = [];
  private flushing = false;
  private published = 0;
  private failure: WriteFailure | undefined;
  private probe: Promise<boolean> | undefined;

  constructor(
    private readonly saver: Saver,
    private readonly clock: { now(): number },
    private readonly log?: Logger,
  ) {}

  /** Loads what was saved; call once before any mutation. */
  async load(): Promise<readonly TaskState[]> {
    const tasks = await this.saver.loadTasks();
    for (const t of tasks) this.index(t);
    this.published = await this.saver.lastSeq();
    return tasks;
  }

  /**
   * The highest event seq whose state is visible through `get`/`list`. Readers of the feed stop
   * here, so an event is never served before the state it reports.
   */
  publishedSeq(): number {
    return this.published;
  }

  get(arn: string): TaskState | undefined {
    return this.tasks.get(arn);
  }

  list(): TaskState[] {
    return [...this.tasks.values()];
  }

  size(): number {
    return this.tasks.size;
  }

  /** The task and container a Docker ID (full, or a prefix of at least 12 characters) belongs to. */
  findByDockerId(id: string): { arn: string; container: string } | undefined {
    const exact = this.byDockerId.get(id);
    if (exact || id.length >= 64) return exact;
    if (id.length < 12) return undefined;
    for (const [full, owner] of this.byDockerId) if (full.startsWith(id)) return owner;
    return undefined;
  }

  /** Since when, and why, writes fail; undefined while the last write succeeded. */
  writeFailure(): WriteFailure | undefined {
    return this.failure;
  }

  /**
   * Whether the saver takes writes: at once while the last write succeeded; after a failure, one
   * probe write (shared by concurrent callers) decides. The engine acts on Docker only when this
   * is true, so it never does what it could not record.
   */
  writable(): Promise<boolean> {
    if (!this.failure) return Promise.resolve(true);
    this.probe ??= this.setMeta(WRITE_PROBE_KEY, new Date(this.clock.now()).toISOString())
      .then(
        () => true,
        () => false,
      )
      .finally(() => {
        this.probe = undefined;
      });
    return this.probe;
  }

  /** Writes one meta value; its failure or success counts toward write health like any commit. */
  async setMeta(key: string, value: string): Promise<void> {
    try {
      await this.saver.setMeta(key, value);
    } catch (error) {
      this.failedToWrite(error);
      throw error;
    }
    this.wrote();
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Told of every task value saved, including changes that imply no event (a network's address)
   * and a task's removal. Called synchronously after the commit: a listener must not wait on anything.
   */
  onCommit(listener: CommitListener): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /**
   * Applies `fn` to the task's current value and saves the result with the events it implies.
   * `fn` returning `undefined` (or the same value) changes nothing; `'forget'` removes the task.
   * Rejects, changing nothing, if `fn` throws or the save fails.
   */
  mutate(arn: string, fn: Mutation): Promise<MutationResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ arn, fn, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        // Let requests and steps that are ready queue their mutations first, so one transaction
        // (one fsync) carries many of them instead of one each.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.queue;
        this.queue = [];
        await this.commitBatch(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async commitBatch(batch: readonly Pending[]): Promise<void> {
    const working = new Map<string, TaskState | undefined>();
    const applied: Array<{ p: Pending; before: TaskState | undefined; after: TaskState | undefined; events: NewStateChange[] }> = [];
    const at = new Date(this.clock.now()).toISOString();
    for (const p of batch) {
      const before = working.has(p.arn) ? working.get(p.arn) : this.tasks.get(p.arn);
      let result: TaskState | 'forget' | undefined;
      try {
        result = p.fn(before);
      } catch (error) {
        p.reject(error);
        continue;
      }
      if (result === undefined || result === before) {
        applied.push({ p, before, after: before, events: [] });
        continue;
      }
      const after = result === 'forget' ? undefined : result;
      working.set(p.arn, after);
      applied.push({ p, before, after, events: after ? stateChanges(before, after, at) : [] });
    }
    const changed = [...working.entries()];
    let saved: StateChange[] = [];
    if (changed.length > 0) {
      try {
        saved = await this.saver.commit({
          put: changed.flatMap(([, t]) => (t ? [t] : [])),
          remove: changed.flatMap(([arn, t]) => (t ? [] : [arn])),
          events: applied.flatMap((a) => a.events),
        });
      } catch (error) {
        this.failedToWrite(error);
        for (const a of applied) a.p.reject(error);
        return;
      }
      this.wrote();
    }
    for (const [arn, t] of changed) {
      const old = this.tasks.get(arn);
      if (old) this.unindex(old);
      if (t) this.index(t);
      else this.tasks.delete(arn);
    }
    for (const [arn, t] of changed) {
      for (const l of this.commitListeners) {
        try {
          l(arn, t);
        } catch (error) {
          this.log?.warn('A commit listener failed', { taskArn: arn, error: errorMessage(error) });
        }
      }
    }
    let offset = 0;
    for (const a of applied) {
      const events = saved.slice(offset, offset + a.events.length);
      offset += a.events.length;
      a.p.resolve({ before: a.before, after: a.after, events });
    }
    this.published = saved.at(-1)?.seq ?? this.published;
    for (const e of saved) {
      for (const l of this.listeners) {
        try {
          l(e);
        } catch {
          // A listener's failure is its own (a client that went away); the state is saved regardless.
        }
      }
    }
  }

  private failedToWrite(error: unknown): void {
    if (!this.failure) {
      this.log?.error('Failed to write the state database; Docker actions are paused until a write succeeds', { error: errorMessage(error) });
    }
    this.failure = { since: this.failure?.since ?? this.clock.now(), error };
  }

  private wrote(): void {
    if (!this.failure) return;
    const seconds = Math.round((this.clock.now() - this.failure.since) / 1000);
    this.failure = undefined;
    this.log?.info(`The state database takes writes again after ${seconds} s; resuming`);
  }

  private index(t: TaskState): void {
    this.tasks.set(t.arn, t);
    for (const c of t.containers) {
      if (c.dockerId) this.byDockerId.set(c.dockerId, { arn: t.arn, container: c.definition.name });
    }
  }

  private unindex(t: TaskState): void {
    for (const c of t.containers) if (c.dockerId) this.byDockerId.delete(c.dockerId);
  }
}

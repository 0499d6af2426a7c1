import PQueue from 'p-queue';
import type { TaskState } from '../api/task.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { backoffDelay, type BackoffPolicy } from '../util/backoff.js';
import type { Clock, Random, TimerHandle } from '../util/clock.js';
import type { EtcdClient } from './etcd-client.js';
import type { EtcdLink } from './etcd-link.js';
import { statusKey, statusPrefix } from './keys.js';
import { statusFingerprint, taskStatusDoc } from './task-status-doc.js';

const DEFAULT_CONCURRENCY = 32;

/** What the writer needs of the engine: the tasks at start, then every saved task value. */
export interface TaskFeed {
  listTasks(): readonly TaskState[];
  onCommit(listener: (arn: string, task: TaskState | undefined) => void): () => void;
}

export interface StatusWriterOptions {
  readonly client: EtcdClient;
  readonly prefix: string;
  readonly host: string;
  readonly clock: Clock;
  readonly random: Random;
  /** At most one write per task per this many ms; the latest value is written at the end of it. */
  readonly intervalMs: number;
  /** Waiting before writes that failed (etcd down) are tried again. */
  readonly backoff: BackoffPolicy;
  readonly log: Logger;
  readonly link?: EtcdLink;
  /** Status writes in flight at once (default 32). */
  readonly concurrency?: number;
  /** Told of each write etcd took (metrics, the status-lag bench). */
  readonly onWritten?: (arn: string) => void;
}

/** A task's latest value to write: its status JSON, or its removal. */
type Pending = { readonly kind: 'put'; readonly value: string; readonly fingerprint: string } | { readonly kind: 'delete' };

interface Slot {
  pending?: Pending;
  /** The fingerprint last written (or being written); undefined once deleted. */
  written?: string;
  lastWriteAt?: number;
  timer?: TimerHandle;
  inFlight: boolean;
}

/**
 * Writes each task's status to `<prefix>/hosts/<host>/status/<arn>` when it changes, at most once
 * per second per task: a change inside the interval waits, and only the latest value is written
 * when it ends (a trailing write). A task leaving the state deletes its key. Each saved value costs
 * O(1): one map lookup and at most one timer; nothing rescans the tasks.
 *
 * While etcd is down, failed writes keep their latest value and are retried together with backoff,
 * so the keys catch up once etcd answers; `pending()` is how many are waiting.
 */
export class StatusWriter {
  private readonly slots = new Map<string, Slot>();
  /** Tasks whose write failed, retried together. */
  private readonly failed = new Set<string>();
  private retryTimer: TimerHandle | undefined;
  private failures = 0;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  private pendingCount = 0;
  private readonly writes: PQueue;
  private readonly log: Logger;

  constructor(private readonly opts: StatusWriterOptions) {
    this.log = opts.log.child({ component: 'etcd-status' });
    this.writes = new PQueue({ concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY });
  }

  /** Subscribes first (no change is lost), then writes every task and deletes status keys of tasks the agent no longer has. */
  async start(feed: TaskFeed): Promise<void> {
    this.unsubscribe = feed.onCommit((arn, task) => this.observe(arn, task));
    const tasks = feed.listTasks();
    for (const task of tasks) this.observe(task.arn, task);
    await this.removeStale(new Set(tasks.map((t) => t.arn)));
  }

  /** Stops taking changes; what is pending is not written (the next start writes every task). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.writes.clear();
    for (const slot of this.slots.values()) if (slot.timer) this.opts.clock.clearTimeout(slot.timer);
    if (this.retryTimer) this.opts.clock.clearTimeout(this.retryTimer);
  }

  /** Status writes waiting for their interval or for etcd. */
  pending(): number {
    return this.pendingCount;
  }

  private observe(arn: string, task: TaskState | undefined): void {
    if (this.stopped) return;
    let slot = this.slots.get(arn);
    if (!task) {
      if (!slot) return;
      this.setPending(slot, { kind: 'delete' });
    } else {
      const doc = taskStatusDoc(task);
      const fingerprint = statusFingerprint(doc);
      if (!slot) this.slots.set(arn, (slot = { inFlight: false }));
      const latest = slot.pending?.kind === 'put' ? slot.pending.fingerprint : slot.pending ? undefined : slot.written;
      if (latest === fingerprint) return;
      this.setPending(slot, { kind: 'put', value: JSON.stringify(doc), fingerprint });
    }
    this.schedule(arn, slot);
  }

  private setPending(slot: Slot, pending: Pending): void {
    if (!slot.pending) this.pendingCount++;
    slot.pending = pending;
  }

  private schedule(arn: string, slot: Slot): void {
    if (slot.inFlight || slot.timer || this.failed.has(arn)) return;
    const wait = slot.lastWriteAt === undefined ? 0 : slot.lastWriteAt + this.opts.intervalMs - this.opts.clock.now();
    if (wait <= 0) {
      this.enqueue(arn, slot);
      return;
    }
    slot.timer = this.opts.clock.setTimeout(() => {
      slot.timer = undefined;
      this.enqueue(arn, slot);
    }, wait);
  }

  /** Writes go out a few at a time: thousands of tasks changing at once must not open thousands of connections. */
  private enqueue(arn: string, slot: Slot): void {
    slot.inFlight = true;
    void this.writes.add(() => this.write(arn, slot));
  }

  /** Takes the slot's latest value when its turn comes, so a queued write never sends a stale one. */
  private async write(arn: string, slot: Slot): Promise<void> {
    const pending = slot.pending;
    if (!pending || this.stopped) {
      slot.inFlight = false;
      return;
    }
    slot.pending = undefined;
    this.pendingCount--;
    slot.lastWriteAt = this.opts.clock.now();
    const key = statusKey(this.opts.prefix, this.opts.host, arn);
    try {
      if (pending.kind === 'put') await this.opts.client.put(key, pending.value);
      else await this.opts.client.delete(key);
      slot.written = pending.kind === 'put' ? pending.fingerprint : undefined;
      this.failures = 0;
      this.opts.link?.ok();
      this.opts.onWritten?.(arn);
    } catch (error) {
      // A newer value that came in meanwhile wins; otherwise this one is retried.
      if (!slot.pending) this.setPending(slot, pending);
      this.failed.add(arn);
      this.opts.link?.failed(error);
      this.scheduleRetry(error);
    } finally {
      slot.inFlight = false;
    }
    if (pending.kind === 'delete' && !slot.pending && slot.written === undefined) this.slots.delete(arn);
    else if (slot.pending && !this.failed.has(arn)) this.schedule(arn, slot);
  }

  private scheduleRetry(error: unknown): void {
    if (this.retryTimer || this.stopped) return;
    const delay = backoffDelay(this.opts.backoff, this.failures++, this.opts.random);
    this.log.warn('Writing task status to etcd failed; retrying', { error: errorMessage(error), pending: this.pendingCount, retryInMs: delay });
    this.retryTimer = this.opts.clock.setTimeout(() => {
      this.retryTimer = undefined;
      const arns = [...this.failed];
      this.failed.clear();
      for (const arn of arns) {
        const slot = this.slots.get(arn);
        if (slot?.pending) this.schedule(arn, slot);
      }
    }, delay);
  }

  /** Status keys of tasks this agent does not hold (removed while it was down): deleted once, at start. */
  private async removeStale(known: ReadonlySet<string>): Promise<void> {
    const prefix = statusPrefix(this.opts.prefix, this.opts.host);
    try {
      const { kvs } = await this.opts.client.range(prefix, { keysOnly: true });
      for (const kv of kvs) {
        const arn = kv.key.slice(prefix.length);
        if (known.has(arn) || this.slots.has(arn)) continue;
        this.slots.set(arn, { inFlight: false, written: '' });
        this.observe(arn, undefined);
      }
    } catch (error) {
      // Left for the next start: stale keys only mislead a fleet view, they drive nothing.
      this.opts.link?.failed(error);
      this.log.warn('Could not list status keys in etcd to remove stale ones', { error: errorMessage(error) });
    }
  }
}

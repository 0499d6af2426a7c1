import type { StateChange } from '../api/events.js';
import { BerthError, errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { backoffDelay } from '../util/backoff.js';
import { sleep, type Clock, type Random } from '../util/clock.js';
import type { RouteBackend } from './route-backend.js';
import type { RouteConfig } from './route-config.js';
import { NO_PROGRESS, type RouteProgress } from './route-progress.js';
import type { RouteRecord } from './route-record.js';
import { routeRecords } from './route-view.js';

/** The durable event feed as a route reads it. */
export interface RouteFeed {
  /** Saved events with `seq > after`, oldest first. */
  eventsAfter(after: number, limit: number): Promise<StateChange[]>;
  /** The highest seq whose state is visible: a route never reads past it. */
  publishedSeq(): number;
  /** Called after each published event. */
  subscribe(listener: () => void): () => void;
}

export interface ProgressStore {
  load(route: string): Promise<RouteProgress | undefined>;
  save(route: string, progress: RouteProgress): Promise<void>;
}

/** Told of each delivery, for the delivery-time histogram. */
export type DeliveryObserver = (route: string, record: RouteRecord, ms: number) => void;

export interface RouteStatus {
  readonly name: string;
  readonly backend: string;
  /** Every record at or below this seq is delivered. */
  readonly seq: number;
  /** Published events the route has not confirmed yet. */
  readonly lag: number;
  readonly delivered: number;
  readonly failures: number;
  readonly dropped: number;
  readonly gapEvents: number;
  readonly lastGap?: RouteProgress['lastGap'];
  readonly lastError?: RouteProgress['lastError'];
  /** Since when (ISO-8601) the backend has been failing; absent while the last attempt succeeded. */
  readonly failingSince?: string;
  /** A gap was recorded since the agent started. */
  readonly gapThisRun: boolean;
}

export interface RouteRunnerOptions {
  readonly route: RouteConfig;
  readonly backend: RouteBackend;
  readonly feed: RouteFeed;
  readonly progress: ProgressStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  /** Records in flight at once, each for a different task (webhooks); 1 keeps the feed's order. */
  readonly concurrency: number;
  readonly onDelivered?: DeliveryObserver;
}

interface Item {
  readonly seq: number;
  readonly records: readonly RouteRecord[];
}

const READ_BATCH = 500;
/** Events read ahead of the cursor at most: a stuck backend holds memory to this, not to the feed. */
const MAX_OUTSTANDING = 5_000;
const READ_RETRY_MS = 1_000;

/**
 * One route's delivery loop, beacon's Route: reads the feed from the route's own cursor, keeps
 * what matches, and hands each record to the backend until it takes it, retrying with backoff.
 * Records of one task go one at a time, in feed order; with `concurrency` > 1 different tasks'
 * records overlap. The cursor moves only over a prefix of the feed whose records are all
 * delivered, and is saved as it moves: after a crash delivery resumes there (at least once; a
 * re-delivered record has the same `seq`). A failing backend stalls only its own route.
 */
export class RouteRunner {
  private progress: RouteProgress = NO_PROGRESS;
  private readSeq = 0;
  private readonly order: number[] = [];
  private head = 0;
  private readonly done = new Set<number>();
  private readonly queues = new Map<string, Item[]>();
  private readonly ready: string[] = [];
  private readonly busy = new Set<string>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private failingSince: number | undefined;
  private gapThisRun = false;
  private wakeUp: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private saving = false;
  private saveAgain = false;
  private saved: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly opts: RouteRunnerOptions) {
    this.log = opts.log.child({ route: opts.route.name });
  }

  get name(): string {
    return this.opts.route.name;
  }

  /** The seq up to which the route has delivered: retention keeps what is above it. */
  cursor(): number {
    return this.head < this.order.length ? this.order[this.head]! - 1 : this.readSeq;
  }

  async start(): Promise<void> {
    this.progress = (await this.opts.progress.load(this.name)) ?? NO_PROGRESS;
    this.readSeq = this.progress.seq;
    this.unsubscribe = this.opts.feed.subscribe(() => this.wake());
    this.log.info('Route started', { backend: this.opts.backend.describe, fromSeq: this.readSeq });
    this.loop = this.run();
  }

  /** Ends deliveries in flight (they are retried after the next start), saves the cursor, closes the backend. */
  async stop(): Promise<void> {
    this.abort.abort(new Error('the agent is stopping'));
    this.unsubscribe?.();
    this.wake();
    await this.loop;
    await Promise.all(this.deliveries);
    this.scheduleSave();
    await this.saved;
    await this.opts.backend.close();
  }

  status(): RouteStatus {
    const seq = this.cursor();
    const p = this.progress;
    return {
      name: this.name,
      backend: this.opts.backend.describe,
      seq,
      lag: Math.max(0, this.opts.feed.publishedSeq() - seq),
      delivered: p.delivered,
      failures: p.failures,
      dropped: p.dropped,
      gapEvents: p.gapEvents,
      ...(p.lastGap ? { lastGap: p.lastGap } : {}),
      ...(p.lastError ? { lastError: p.lastError } : {}),
      ...(this.failingSince === undefined ? {} : { failingSince: new Date(this.failingSince).toISOString() }),
      gapThisRun: this.gapThisRun,
    };
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const published = this.opts.feed.publishedSeq();
      if (this.readSeq >= published || this.order.length - this.head >= MAX_OUTSTANDING) {
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
        continue;
      }
      let events: StateChange[];
      try {
        events = await this.opts.feed.eventsAfter(this.readSeq, READ_BATCH);
      } catch (error) {
        this.log.warn('Failed to read the event feed; will retry', { error: errorMessage(error) });
        await sleep(this.opts.clock, READ_RETRY_MS, signal).catch(() => undefined);
        continue;
      }
      const visible = events.filter((e) => e.seq <= published);
      const next = visible[0]?.seq ?? published + 1;
      if (next > this.readSeq + 1) this.recordGap(this.readSeq + 1, Math.min(next - 1, published));
      for (const e of visible) this.enqueue(e);
      this.readSeq = Math.max(this.readSeq, visible.at(-1)?.seq ?? Math.min(next - 1, published));
      this.pump();
      this.advanced();
    }
  }

  private wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  /** Retention pruned events this route had not delivered: they are lost to it, and it says so. */
  private recordGap(from: number, to: number): void {
    const at = new Date(this.opts.clock.now()).toISOString();
    this.progress = { ...this.progress, gapEvents: this.progress.gapEvents + (to - from + 1), lastGap: { from, to, at } };
    this.gapThisRun = true;
    this.log.error('Events were pruned before this route delivered them', { fromSeq: from, toSeq: to, events: to - from + 1 });
  }

  private enqueue(e: StateChange): void {
    const records = routeRecords(this.opts.route, e);
    if (records.length === 0) return;
    this.order.push(e.seq);
    const queue = this.queues.get(e.taskArn);
    if (queue) queue.push({ seq: e.seq, records });
    else {
      this.queues.set(e.taskArn, [{ seq: e.seq, records }]);
      if (!this.busy.has(e.taskArn)) this.ready.push(e.taskArn);
    }
  }

  private pump(): void {
    while (this.busy.size < this.opts.concurrency && this.ready.length > 0 && !this.abort.signal.aborted) {
      const task = this.ready.shift()!;
      const queue = this.queues.get(task)!;
      const item = queue.shift()!;
      if (queue.length === 0) this.queues.delete(task);
      this.busy.add(task);
      const delivery = this.deliverItem(item).then((delivered) => {
        this.deliveries.delete(delivery);
        this.busy.delete(task);
        if (!delivered) return;
        this.done.add(item.seq);
        if (this.queues.has(task)) this.ready.push(task);
        this.pump();
        this.advanced();
        this.wake();
      });
      this.deliveries.add(delivery);
    }
  }

  /** False when the agent stopped first: the item stays undelivered and comes again after a start. */
  private async deliverItem(item: Item): Promise<boolean> {
    for (const record of item.records) {
      if (!(await this.deliverOne(record))) return false;
    }
    return true;
  }

  private async deliverOne(record: RouteRecord): Promise<boolean> {
    const signal = this.abort.signal;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) return false;
      const began = this.opts.clock.now();
      try {
        await this.opts.backend.deliver(record, signal);
        this.progress = { ...this.progress, delivered: this.progress.delivered + 1 };
        if (this.failingSince !== undefined) {
          this.log.info('Route delivers again', { failingForMs: this.opts.clock.now() - this.failingSince });
          this.failingSince = undefined;
        }
        this.opts.onDelivered?.(this.name, record, this.opts.clock.now() - began);
        return true;
      } catch (error) {
        if (signal.aborted) return false;
        const retryable = !(error instanceof BerthError) || error.retryable;
        const at = new Date(this.opts.clock.now()).toISOString();
        this.progress = {
          ...this.progress,
          failures: this.progress.failures + 1,
          dropped: this.progress.dropped + (retryable ? 0 : 1),
          lastError: { message: errorMessage(error), at },
        };
        this.scheduleSave();
        if (!retryable) {
          this.log.error('Dropped a record the backend refuses; retrying cannot help', { seq: record.seq, error: errorMessage(error) });
          return true;
        }
        if (this.failingSince === undefined) {
          this.failingSince = this.opts.clock.now();
          this.log.warn('Failed to deliver; retrying with backoff', { seq: record.seq, error: errorMessage(error) });
        }
        try {
          await sleep(this.opts.clock, backoffDelay(this.opts.route.retry, attempt, this.opts.random), signal);
        } catch {
          return false;
        }
      }
    }
  }

  /** Moves the cursor over the delivered prefix and saves it when it moved. */
  private advanced(): void {
    while (this.head < this.order.length && this.done.has(this.order[this.head]!)) {
      this.done.delete(this.order[this.head]!);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
    if (this.cursor() !== this.progress.seq) this.scheduleSave();
  }

  /** One save at a time; changes made meanwhile go in the next one, so a burst costs two writes. */
  private scheduleSave(): void {
    if (this.saving) {
      this.saveAgain = true;
      return;
    }
    this.saving = true;
    this.saved = (async () => {
      do {
        this.saveAgain = false;
        const progress = { ...this.progress, seq: this.cursor() };
        try {
          await this.opts.progress.save(this.name, progress);
          this.progress = { ...this.progress, seq: progress.seq };
        } catch (error) {
          this.log.warn('Failed to save the route cursor; it is saved with the next delivery', { error: errorMessage(error) });
        }
      } while (this.saveAgain);
      this.saving = false;
    })();
  }
}

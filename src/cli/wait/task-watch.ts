import type { StateChange } from '../../api/events.js';
import type { DesiredStatus } from '../../api/status.js';
import type { TaskView } from '../../api/view.js';
import type { PullProgressSnapshot } from '../../engine/pull-progress.js';
import { errorMessage } from '../../errors.js';
import type { Api } from '../client/api.js';
import { openNdjson, type NdjsonStream } from '../client/ndjson.js';
import { EXIT, CliError } from '../exit-codes.js';
import { changesBetween } from './changes.js';

export type WaitOutcome =
  | { readonly kind: 'reached' | 'stopped'; readonly task: TaskView }
  | { readonly kind: 'timeout' | 'interrupted'; readonly task: TaskView | undefined };

export interface WatchOptions {
  readonly api: Api;
  readonly arn: string;
  /** RUNNING, or STOPPED when the file asks for the task to stop. */
  readonly target: DesiredStatus;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly onChange: (e: StateChange) => void;
  /** Absent: no progress stream is opened. */
  readonly onProgress?: (p: PullProgressSnapshot) => void;
  /** Something the operator should know about the watching itself (e.g. falling back to polling). */
  readonly onNote: (text: string) => void;
  readonly pollMs?: number;
}

/**
 * Follows one task until it reaches its target, stops, runs out of time, or is interrupted.
 *
 * Open it BEFORE posting the task: it reads the feed's newest seq and streams from there, so
 * every change the post causes is seen. When the stream cannot be had (or breaks), it polls
 * GET /v1/tasks?taskarn= instead and reports the differences it sees as the same changes.
 */
export class TaskWatch {
  private events: NdjsonStream | undefined;
  private progressStream: NdjsonStream | undefined;
  private readonly early: StateChange[] = [];
  private armed = false;
  private settled = false;
  private last: TaskView | undefined;
  private resolveOutcome!: (o: WaitOutcome) => void;
  private readonly outcome = new Promise<WaitOutcome>((resolve) => (this.resolveOutcome = resolve));
  private readonly timers: NodeJS.Timeout[] = [];
  private polling = false;

  private constructor(private readonly o: WatchOptions) {}

  static async open(o: WatchOptions): Promise<TaskWatch> {
    const w = new TaskWatch(o);
    try {
      const after = await o.api.lastSeq();
      w.events = await openNdjson(o.api.socketPath, `/v1/events?after=${after}`, (v) => w.onEvent(v as StateChange));
    } catch (error) {
      if (error instanceof CliError && error.exitCode === EXIT.unreachable) throw error;
      o.onNote(`cannot stream events (${errorMessage(error)}); polling the task instead`);
    }
    if (o.onProgress) {
      const onProgress = o.onProgress;
      // Progress is a nicety: without it the status changes still tell the story.
      w.progressStream = await openNdjson(o.api.socketPath, `/v1/progress?taskarn=${encodeURIComponent(o.arn)}`, (v) =>
        onProgress(v as PullProgressSnapshot),
      ).catch(() => undefined);
    }
    return w;
  }

  /** Waits from the task as the post answered it. Always closes the streams it opened. */
  until(posted: TaskView): Promise<WaitOutcome> {
    this.last = posted;
    this.armed = true;
    this.timers.push(setTimeout(() => void this.finishWithLatest('timeout'), this.o.timeoutMs));
    const onAbort = (): void => void this.finishWithLatest('interrupted');
    if (this.o.signal.aborted) onAbort();
    else this.o.signal.addEventListener('abort', onAbort, { once: true });
    this.early.splice(0).forEach((e) => this.onEvent(e));
    this.check(posted);
    if (!this.events) this.startPolling();
    else void this.events.ended.then(({ error }) => {
      if (this.settled) return;
      this.o.onNote(`the event stream ended${error ? ` (${error.message})` : ''}; polling the task instead`);
      this.startPolling();
    });
    return this.outcome.finally(() => this.o.signal.removeEventListener('abort', onAbort));
  }

  close(): void {
    this.timers.forEach(clearTimeout);
    this.events?.close();
    this.progressStream?.close();
  }

  private onEvent(e: StateChange): void {
    if (e.taskArn !== this.o.arn || this.settled) return;
    if (!this.armed) return void this.early.push(e);
    this.o.onChange(e);
    if (e.type !== 'task') return;
    if (e.status === this.o.target) void this.finishWithLatest('reached');
    else if (e.status === 'STOPPED') void this.finishWithLatest('stopped');
  }

  private check(view: TaskView): void {
    if (view.knownStatus === this.o.target) this.finish('reached', view);
    else if (view.knownStatus === 'STOPPED') this.finish('stopped', view);
  }

  /** A client that sees an event can rely on GET /v1/tasks already showing it. */
  private async finishWithLatest(kind: WaitOutcome['kind']): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    this.close();
    let task = this.last;
    try {
      task = await this.o.api.task(this.o.arn);
    } catch {
      // The answer still stands on what was seen; the details are best effort.
    }
    this.resolveOutcome({ kind, task } as WaitOutcome);
  }

  private finish(kind: 'reached' | 'stopped', task: TaskView): void {
    if (this.settled) return;
    this.settled = true;
    this.close();
    this.resolveOutcome({ kind, task });
  }

  private startPolling(): void {
    if (this.polling || this.settled) return;
    this.polling = true;
    let complained = false;
    const tick = async (): Promise<void> => {
      try {
        const now = await this.o.api.task(this.o.arn);
        if (this.settled) return;
        changesBetween(this.last, now).forEach((e) => this.o.onChange(e));
        this.last = now;
        this.check(now);
      } catch (error) {
        if (!complained) this.o.onNote(`cannot read the task (${errorMessage(error)}); still trying`);
        complained = true;
      }
      if (!this.settled) this.timers.push(setTimeout(() => void tick(), this.o.pollMs ?? 500));
    };
    void tick();
  }
}

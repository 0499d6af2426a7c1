import type { NetworkEventStreamOptions } from '../docker/docker-client.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { backoffDelay, type BackoffPolicy } from '../util/backoff.js';
import { sleep, type Clock, type Random } from '../util/clock.js';

/** Replaying a second before start costs a few extra re-reads and covers clock granularity. */
const START_MARGIN_MS = 1000;

export interface WatcherHandlers<E> {
  onEvent(event: E): void;
  /** The stream broke and is open again: events may have been missed, so Docker must be re-read. */
  onReconnect(): void;
}

/** Opens one Docker event stream (container events for the agent's labels, or network events). */
export type EventStreamOpener<E> = (options: NetworkEventStreamOptions) => AsyncIterable<E>;

/**
 * Keeps one of Docker's event streams open (the container events of this agent's containers, or
 * network connects and disconnects). After a break it waits
 * (capped exponential backoff with jitter) and reopens with `since` set to the last event seen, so
 * Docker replays what happened meanwhile. A break says nothing about the containers themselves.
 * The first stream starts a little before `start()`: the engine re-reads every container while
 * it connects, and a container that dies in between must still show up as an event.
 */
export class DockerEventWatcher<E extends { readonly timeNano: string }> {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private lastTimeNano: string | undefined;

  constructor(
    private readonly open: EventStreamOpener<E>,
    private readonly handlers: WatcherHandlers<E>,
    /** `stream`: which stream, in log lines (`container` when absent). */
    private readonly opts: { clock: Clock; random: Random; backoff: BackoffPolicy; log: Logger; stream?: string },
  ) {}

  start(): void {
    this.lastTimeNano ??= String(BigInt(Math.max(0, this.opts.clock.now() - START_MARGIN_MS)) * 1_000_000n);
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('event watcher stopped'));
    await this.loop;
  }

  private get streamName(): string {
    return this.opts.stream ?? 'container';
  }

  private async run(): Promise<void> {
    const { signal } = this.abort;
    let failures = 0;
    while (!signal.aborted) {
      let openedAt: number | undefined;
      try {
        const stream = this.open({
          signal,
          ...(this.lastTimeNano ? { sinceNano: this.lastTimeNano } : {}),
          onOpen: () => {
            openedAt = this.opts.clock.now();
            if (failures === 0) return;
            this.opts.log.info('Docker event stream reopened', { stream: this.streamName, since: this.lastTimeNano });
            this.handlers.onReconnect();
          },
        });
        for await (const event of stream) {
          this.lastTimeNano = event.timeNano;
          this.handlers.onEvent(event);
        }
        if (signal.aborted) return;
        this.opts.log.warn('Docker event stream ended; reopening', { stream: this.streamName });
      } catch (error) {
        if (signal.aborted) return;
        this.opts.log.warn('Docker event stream broke; reopening', { stream: this.streamName, error: errorMessage(error), attempt: failures + 1 });
      }
      // A stream that stayed up a while was healthy: its break starts a fresh backoff, so a quiet
      // but working stream does not creep to the maximum delay over many breaks.
      if (openedAt !== undefined && this.opts.clock.now() - openedAt >= this.opts.backoff.maxMs) failures = 0;
      const delay = backoffDelay(this.opts.backoff, failures, this.opts.random);
      failures += 1;
      try {
        await sleep(this.opts.clock, delay, signal);
      } catch {
        return;
      }
    }
  }
}

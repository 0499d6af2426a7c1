import type { DockerClient, DockerEvent } from '../docker/docker-client.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { backoffDelay, type BackoffPolicy } from '../util/backoff.js';
import { sleep, type Clock, type Random } from '../util/clock.js';

/** Replaying a second before start costs a few extra re-reads and covers clock granularity. */
const START_MARGIN_MS = 1000;

export interface WatcherHandlers {
  onEvent(event: DockerEvent): void;
  /** The stream broke and is open again: events may have been missed, so Docker must be re-read. */
  onReconnect(): void;
}

/**
 * Keeps Docker's container event stream open for this agent's containers. After a break it waits
 * (capped exponential backoff with jitter) and reopens with `since` set to the last event seen, so
 * Docker replays what happened meanwhile. A break says nothing about the containers themselves.
 * The first stream starts a little before `start()`: the engine re-reads every container while
 * it connects, and a container that dies in between must still show up as an event.
 */
export class DockerEventWatcher {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private lastTimeNano: string | undefined;

  constructor(
    private readonly docker: DockerClient,
    private readonly labels: Readonly<Record<string, string>>,
    private readonly handlers: WatcherHandlers,
    private readonly opts: { clock: Clock; random: Random; backoff: BackoffPolicy; log: Logger },
  ) {}

  start(): void {
    this.lastTimeNano ??= String(BigInt(Math.max(0, this.opts.clock.now() - START_MARGIN_MS)) * 1_000_000n);
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('event watcher stopped'));
    await this.loop;
  }

  private async run(): Promise<void> {
    const { signal } = this.abort;
    let failures = 0;
    while (!signal.aborted) {
      let openedAt: number | undefined;
      try {
        const stream = this.docker.containerEvents({
          labels: this.labels,
          signal,
          ...(this.lastTimeNano ? { sinceNano: this.lastTimeNano } : {}),
          onOpen: () => {
            openedAt = this.opts.clock.now();
            if (failures === 0) return;
            this.opts.log.info('Docker event stream reopened', { since: this.lastTimeNano });
            this.handlers.onReconnect();
          },
        });
        for await (const event of stream) {
          this.lastTimeNano = event.timeNano;
          this.handlers.onEvent(event);
        }
        if (signal.aborted) return;
        this.opts.log.warn('Docker event stream ended; reopening');
      } catch (error) {
        if (signal.aborted) return;
        this.opts.log.warn('Docker event stream broke; reopening', { error: errorMessage(error), attempt: failures + 1 });
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

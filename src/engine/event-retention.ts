import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Saver } from '../state/saver.js';
import type { Clock, TimerHandle } from '../util/clock.js';

export interface RetentionPolicy {
  readonly keepLast: number;
  readonly maxAgeMs: number;
  readonly intervalMs: number;
}

/**
 * Keeps the event feed bounded: every `intervalMs`, deletes events beyond `keepLast` and those
 * older than `maxAgeMs`. A client whose cursor falls behind what is kept gets a 410 and resyncs.
 */
export class EventRetention {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly saver: Saver,
    private readonly clock: Clock,
    private readonly policy: RetentionPolicy,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    await this.running;
  }

  /** One retention pass; returns how many events were deleted. */
  async runOnce(): Promise<number> {
    const olderThan = new Date(this.clock.now() - this.policy.maxAgeMs).toISOString();
    const removed = await this.saver.pruneEvents({ keepLast: this.policy.keepLast, olderThan });
    if (removed > 0) this.log.info('Pruned old events', { removed, keepLast: this.policy.keepLast, olderThan });
    return removed;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.running = this.runOnce().then(
        () => this.schedule(this.policy.intervalMs),
        (error: unknown) => {
          this.log.warn('Event retention failed; will retry', { error: errorMessage(error) });
          this.schedule(this.policy.intervalMs);
        },
      );
    }, ms);
    this.timer.unref?.();
  }
}

import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Saver } from '../state/saver.js';
import type { Clock } from '../util/clock.js';
import { Periodic } from '../util/periodic.js';

export interface RetentionPolicy {
  readonly keepLast: number;
  readonly maxAgeMs: number;
  readonly intervalMs: number;
  /** Events kept at most, even those a route has not delivered. */
  readonly hardCap: number;
}

/**
 * Keeps the event feed bounded: every `intervalMs`, deletes events beyond `keepLast` and those
 * older than `maxAgeMs`, except the ones a route has yet to deliver, which go only past `hardCap`
 * (the route then records the gap). A client whose cursor falls behind what is kept gets a 410
 * and resyncs.
 */
export class EventRetention {
  private readonly periodic: Periodic;

  constructor(
    private readonly saver: Saver,
    private readonly clock: Clock,
    private readonly policy: RetentionPolicy,
    private readonly log: Logger,
    /** The lowest seq every route has delivered; events above it are kept (up to the hard cap). */
    private readonly delivered: () => number | undefined = () => undefined,
  ) {
    this.periodic = new Periodic(clock, { intervalMs: policy.intervalMs, firstDelayMs: 0 }, () => this.runOnce(), (error) =>
      log.warn('Event retention failed; will retry', { error: errorMessage(error) }),
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One retention pass; returns how many events were deleted. */
  async runOnce(): Promise<number> {
    const olderThan = new Date(this.clock.now() - this.policy.maxAgeMs).toISOString();
    const keepAfter = this.delivered();
    const removed = await this.saver.pruneEvents({
      keepLast: this.policy.keepLast,
      olderThan,
      hardCap: this.policy.hardCap,
      ...(keepAfter === undefined ? {} : { keepAfter }),
    });
    if (removed > 0) this.log.info('Pruned old events', { removed, keepLast: this.policy.keepLast, olderThan, ...(keepAfter === undefined ? {} : { keptAfter: keepAfter }) });
    return removed;
  }
}

import type { Clock, TimerHandle } from './clock.js';

/**
 * Runs `pass` every `intervalMs` (the first after `firstDelayMs`), never two at once: the next is
 * scheduled when the previous settles. A failed pass goes to `onError` and the schedule goes on.
 * `stop()` cancels what is scheduled and waits for a pass in flight.
 */
export class Periodic {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly opts: { intervalMs: number; firstDelayMs?: number },
    private readonly pass: () => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.schedule(this.opts.firstDelayMs ?? this.opts.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.running = this.pass().then(
        () => this.schedule(this.opts.intervalMs),
        (error: unknown) => {
          this.onError(error);
          this.schedule(this.opts.intervalMs);
        },
      );
    }, ms);
    this.timer.unref?.();
  }
}

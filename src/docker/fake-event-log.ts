import { DockerUnavailableError } from '../errors.js';
import type { DockerEvent, NetworkEventStreamOptions } from './docker-client.js';

/**
 * FakeDocker's event log and clock: every event it ever emitted, in order, and the streams that
 * read it. Time is the wall clock (`Date.now()`, so fake timers move it), strictly rising.
 * One log per kind of event (container, network), as Docker's streams are opened per filter.
 */
export class FakeEventLog<E extends { readonly timeNano: string } = DockerEvent> {
  private readonly log: E[] = [];
  private readonly wakers = new Set<() => void>();
  /** Bumped to break every open stream. */
  private epoch = 0;
  private nowNano = 0n;
  /** Events looked at by streams and replays, for the growth test: each event costs each open stream one. */
  work = 0;

  get all(): readonly E[] {
    return [...this.log];
  }

  get length(): number {
    return this.log.length;
  }

  push(...events: E[]): void {
    this.log.push(...events);
    this.wakeAll();
  }

  /** Forgets every event after the first `length`, as a daemon whose buffer lost them. */
  truncate(length: number): void {
    this.log.length = length;
  }

  breakStreams(): void {
    this.epoch++;
    this.wakeAll();
  }

  /** Wall-clock time like Docker's, but strictly rising: an event in the same millisecond as the last comes 1 µs after it. */
  tick(): bigint {
    const wall = BigInt(Date.now()) * 1_000_000n;
    this.nowNano = wall > this.nowNano ? wall : this.nowNano + 1_000n;
    return this.nowNano;
  }

  tickMs(): number {
    return Number(this.tick() / 1_000_000n);
  }

  /** Where a stream opened now starts reading: after `sinceNano`, or at the end of the log. */
  cursorFor(sinceNano: string | undefined): number {
    const since = sinceNano === undefined ? undefined : BigInt(sinceNano);
    const replayFrom = since === undefined ? -1 : this.log.findIndex((e) => {
      // A replay walks the log (a reconnect's cost, not a transition's): counted all the same.
      this.work++;
      return BigInt(e.timeNano) > since;
    });
    return replayFrom < 0 ? this.log.length : replayFrom;
  }

  /**
   * The events `matches` takes from `start` on, once `opening` resolves, until the signal aborts
   * (the iterator ends) or `breakStreams` (it throws DockerUnavailableError).
   */
  async *stream(
    options: NetworkEventStreamOptions,
    matches: (event: E) => boolean,
    opening: Promise<void>,
    start: number | (() => number),
    // A default parameter is evaluated when the generator is called, not at its first next(): a
    // stream made before a break is broken by it.
    epoch = this.epoch,
  ): AsyncGenerator<E> {
    const { signal } = options;
    await opening;
    options.onOpen?.();
    let cursor = typeof start === 'number' ? start : start();
    while (!signal.aborted) {
      if (epoch !== this.epoch) throw new DockerUnavailableError('fake docker: the event stream broke');
      const event = this.log[cursor];
      if (event === undefined) {
        await this.nextWake(signal);
        continue;
      }
      cursor++;
      this.work++;
      if (matches(event)) yield event;
    }
  }

  private nextWake(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.wakers.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.wakers.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }
}

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DockerClient, DockerEvent, EventStreamOptions } from '../../../src/docker/docker-client.js';
import { DockerUnavailableError } from '../../../src/errors.js';
import { DockerEventWatcher } from '../../../src/engine/docker-event-watcher.js';
import { silentLogger } from '../../../src/log/logger.js';
import { systemClock } from '../../../src/util/clock.js';

/** A Docker whose event stream breaks after `lifeMs`, recording when each stream was opened. */
function breakingDocker(lifeMs: () => number, opened: number[], sinces: Array<string | undefined>): DockerClient {
  return {
    containerEvents: (o: EventStreamOptions) => ({
      async *[Symbol.asyncIterator](): AsyncGenerator<DockerEvent> {
        opened.push(Date.now());
        sinces.push(o.sinceNano);
        o.onOpen?.();
        yield { dockerId: 'a', action: 'start', labels: {}, timeNano: String(opened.length) };
        await new Promise((r) => setTimeout(r, lifeMs()));
        throw new DockerUnavailableError('stream broke');
      },
    }),
  } as unknown as DockerClient;
}

/** The agent's container stream, without a label filter. */
const opener = (docker: DockerClient) => (o: Omit<EventStreamOptions, 'labels'>) => docker.containerEvents({ ...o, labels: {} });

afterEach(() => vi.useRealTimers());

const OPTIONS = { clock: systemClock, random: () => 0.5, backoff: { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0 }, log: silentLogger() };

describe('DockerEventWatcher', () => {
  it('opens first with since = a second before start, then reopens with since = the last event seen, reporting each reconnect', async () => {
    vi.useFakeTimers();
    const opened: number[] = [];
    const sinces: Array<string | undefined> = [];
    const reconnects = vi.fn();
    const w = new DockerEventWatcher(opener(breakingDocker(() => 10, opened, sinces)), { onEvent: () => undefined, onReconnect: reconnects }, OPTIONS);
    const startedAt = Date.now();
    w.start();
    await vi.advanceTimersByTimeAsync(2_000);
    await w.stop();
    expect(sinces.slice(0, 3)).toEqual([`${startedAt - 1000}000000`, '1', '2']);
    expect(reconnects).toHaveBeenCalledTimes(opened.length - 1);
  });

  it('reports a reconnect only when a stream is open again, not for attempts that fail to connect', async () => {
    vi.useFakeTimers();
    let down = true;
    const attempts: boolean[] = [];
    const docker = {
      containerEvents: (o: EventStreamOptions) => ({
        async *[Symbol.asyncIterator](): AsyncGenerator<DockerEvent> {
          attempts.push(down);
          if (down) throw new DockerUnavailableError('connect ECONNREFUSED');
          o.onOpen?.();
          // Open and quiet until the watcher stops.
          await new Promise((r) => o.signal.addEventListener('abort', r, { once: true }));
        },
      }),
    } as unknown as DockerClient;
    const reconnects = vi.fn();
    const w = new DockerEventWatcher(opener(docker), { onEvent: () => undefined, onReconnect: reconnects }, OPTIONS);
    w.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(attempts.length).toBeGreaterThan(3);
    expect(reconnects).not.toHaveBeenCalled();
    down = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reconnects).toHaveBeenCalledTimes(1);
    await w.stop();
  });

  it('backs off exponentially while the stream keeps breaking at once, and starts over after a stream that stayed up', async () => {
    vi.useFakeTimers();
    const opened: number[] = [];
    const lives = [10, 10, 10, 5_000, 10, 10];
    const w = new DockerEventWatcher(opener(breakingDocker(() => lives.shift() ?? 10, opened, [])), { onEvent: () => undefined, onReconnect: () => undefined }, OPTIONS);
    w.start();
    await vi.advanceTimersByTimeAsync(7_000);
    await w.stop();
    const gaps = opened.slice(1).map((t, i) => t - opened[i]! - [10, 10, 10, 5_000, 10][i]!);
    // The first event of each stream resets nothing by itself; the long-lived stream does.
    expect(gaps.slice(0, 5)).toEqual([100, 200, 400, 100, 200]);
  });
});

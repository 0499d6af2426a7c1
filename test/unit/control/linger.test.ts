import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { drainThenEnd } from '../../../src/control/linger.js';
import { systemClock } from '../../../src/util/clock.js';

/** The lingering drain alone, on a stream standing in for the request body, with fake timers. */

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const bounds = { lingerMs: 2_000, lingerBytes: 1_000 };

/** Lets the stream deliver what was written and emit 'end' (it uses process.nextTick, which stays real). */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => process.nextTick(r));
}

describe('drainThenEnd', () => {
  it('reads and discards the rest of a paused body and ends once it is in', async () => {
    const body = new PassThrough();
    body.pause();
    const end = vi.fn();
    drainThenEnd(body, end, bounds, systemClock);
    body.write(Buffer.alloc(600));
    await flush();
    expect(end).not.toHaveBeenCalled();
    body.end(Buffer.alloc(300));
    await flush();
    expect(end).toHaveBeenCalledTimes(1);
    // The timer went with it: nothing fires later.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(end).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends at lingerMs for a body that keeps coming slowly, and not before', async () => {
    const body = new PassThrough();
    const end = vi.fn();
    drainThenEnd(body, end, bounds, systemClock);
    for (let ms = 0; ms < 1_900; ms += 100) {
      body.write(Buffer.alloc(10));
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(end).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(100);
    expect(end).toHaveBeenCalledTimes(1);
    body.write(Buffer.alloc(10));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(end).toHaveBeenCalledTimes(1);
  });

  it('ends as soon as more than lingerBytes have arrived, before lingerMs', async () => {
    const body = new PassThrough();
    const end = vi.fn();
    drainThenEnd(body, end, bounds, systemClock);
    body.write(Buffer.alloc(1_000));
    await flush();
    expect(end).not.toHaveBeenCalled();
    body.write(Buffer.alloc(1));
    await flush();
    expect(end).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancelled (the socket is gone), it never ends and leaves no timer', async () => {
    const body = new PassThrough();
    const end = vi.fn();
    const cancel = drainThenEnd(body, end, bounds, systemClock);
    cancel();
    body.end(Buffer.alloc(5_000));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(end).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});

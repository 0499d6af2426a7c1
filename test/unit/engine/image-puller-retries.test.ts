import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ImageClient, PullOptions } from '../../../src/docker/docker-client.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { DockerApiError, ImagePullError, PullCancelledError, PullTimeoutError } from '../../../src/errors.js';
import { ImagePuller, type PullRetryPolicy } from '../../../src/engine/image-puller.js';
import { systemClock } from '../../../src/util/clock.js';

const A = 'registry.test:5000/a:1';
const B = 'registry.test:5000/b:1';

/** 1 s, 2 s, 4 s … capped at 8 s, no jitter; no timeouts unless a test sets them. */
const POLICY: PullRetryPolicy = { retries: 3, backoff: { initialMs: 1_000, maxMs: 8_000, multiplier: 2, jitter: 0 }, inactivityTimeoutMs: 0, timeoutMs: 0 };

function puller(client: ImageClient, policy: Partial<PullRetryPolicy> = {}, maxConcurrent = 2, random = () => 0.5): ImagePuller {
  return new ImagePuller(client, maxConcurrent, { policy: { ...POLICY, ...policy }, clock: systemClock, random });
}

const pulls = (docker: FakeDocker): string[] => docker.calls.filter((c) => c.op === 'pull').map((c) => c.arg);

/** Where a promise stands once pending work at the current fake time has run. */
async function stateOf(p: Promise<unknown>): Promise<string> {
  let state = 'pending';
  p.then(
    () => (state = 'resolved'),
    (e: unknown) => (state = `rejected: ${e instanceof Error ? e.constructor.name : String(e)}`),
  );
  await vi.advanceTimersByTimeAsync(0);
  return state;
}

/**
 * A registry connection that sends a progress line at each of `at` (ms after the pull starts) and
 * then finishes at `doneAt`, or never when absent; it ends at once when its signal aborts.
 */
function scripted(at: readonly number[], doneAt?: number): ImageClient & { started: number } {
  const docker = new FakeDocker({ images: [A] });
  const client = {
    started: 0,
    pullImage: (image: string, options: PullOptions = {}) =>
      new Promise<void>((resolve, reject) => {
        client.started += 1;
        const timers = at.map((ms) => setTimeout(() => options.onProgress?.({ id: 'layer', status: 'Downloading' }), ms));
        const done = doneAt === undefined ? undefined : setTimeout(resolve, doneAt);
        options.signal?.addEventListener('abort', () => {
          timers.forEach(clearTimeout);
          clearTimeout(done);
          reject(new PullCancelledError(image));
        });
      }),
    inspectImage: (ref: string) => docker.inspectImage(ref),
    listImages: () => docker.listImages(),
    removeImage: (ref: string) => docker.removeImage(ref),
  };
  return client;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ImagePuller retries', () => {
  it('retries a retryable failure after a capped exponential backoff, and the requests get the image', async () => {
    const docker = new FakeDocker({ images: [A] });
    for (let i = 0; i < 3; i++) docker.failNext('pull', new ImagePullError(A, 'connection reset by peer'));
    const retries: Array<[number, number]> = [];
    const p = puller(docker).pull(A, { onRetry: (_e, attempt, delayMs) => retries.push([attempt, delayMs]) });
    expect(await stateOf(p)).toBe('pending');
    expect(pulls(docker)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(pulls(docker)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(pulls(docker)).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(pulls(docker)).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(await stateOf(p)).toBe('resolved');
    expect(pulls(docker)).toHaveLength(4);
    expect(retries).toEqual([[1, 1_000], [2, 2_000], [3, 4_000]]);
    expect(docker.hasImage(A)).toBe(true);
  });

  it('jitters the backoff with the injected random source', async () => {
    const docker = new FakeDocker({ images: [A] });
    docker.failNext('pull', new ImagePullError(A, 'connection reset by peer'));
    const delays: number[] = [];
    const p = puller(docker, { backoff: { ...POLICY.backoff, jitter: 0.5 } }, 2, () => 0).pull(A, { onRetry: (_e, _a, ms) => delays.push(ms) });
    await vi.advanceTimersByTimeAsync(500);
    expect(await stateOf(p)).toBe('resolved');
    // Half the 1 s delay is random; a random 0 takes none of it.
    expect(delays).toEqual([500]);
  });

  it('fails every request with the last error once the retries are spent', async () => {
    const docker = new FakeDocker({ images: [A] });
    for (let i = 0; i < 3; i++) docker.failNext('pull', new DockerApiError('pull', 503, `unavailable ${i}`));
    const p = puller(docker, { retries: 2 }).pull(A);
    const outcome = p.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await outcome).toMatchObject({ message: expect.stringMatching(/unavailable 2/) });
    expect(pulls(docker)).toHaveLength(3);
  });

  it.each([
    ['an image the registry does not have', new ImagePullError(A, 'manifest for a:1 not found: manifest unknown')],
    ['refused credentials', new ImagePullError(A, 'registry registry.test:5000 answered 401 Unauthorized to an anonymous pull: unauthorized')],
    ['a 404 from the registry', new ImagePullError(A, 'pull access', { cause: { statusCode: 404 } })],
  ])('does not retry %s', async (_name, error) => {
    const docker = new FakeDocker({ images: [A] });
    docker.failNext('pull', error);
    const outcome = puller(docker).pull(A).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await outcome).toBe(error);
    expect(pulls(docker)).toHaveLength(1);
  });

  it('waits out the backoff outside its slot: another image pulls meanwhile', async () => {
    const docker = new FakeDocker({ images: [A, B] });
    docker.failNext('pull', new ImagePullError(A, 'connection reset by peer'));
    const p = puller(docker, {}, 1);
    const a = p.pull(A);
    const b = p.pull(B);
    expect(await stateOf(b)).toBe('resolved');
    expect(await stateOf(a)).toBe('pending');
    expect(pulls(docker)).toEqual([A, B]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await stateOf(a)).toBe('resolved');
    expect(pulls(docker)).toEqual([A, B, A]);
  });

  it('lets a request leave at once during the backoff; the last one to leave ends the retries', async () => {
    const docker = new FakeDocker({ images: [A] });
    docker.failNext('pull', new ImagePullError(A, 'connection reset by peer'));
    const p = puller(docker);
    const stops = [new AbortController(), new AbortController()];
    const requests = stops.map((s) => p.pull(A, { signal: s.signal }));
    await vi.advanceTimersByTimeAsync(100);
    stops[0]!.abort();
    expect(await stateOf(requests[0]!)).toBe('rejected: PullCancelledError');
    expect(await stateOf(requests[1]!)).toBe('pending');
    stops[1]!.abort();
    expect(await stateOf(requests[1]!)).toBe('rejected: PullCancelledError');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pulls(docker)).toHaveLength(1);
  });
});

describe('ImagePuller timeouts', () => {
  it('aborts an attempt that shows no progress for the inactivity timeout, naming it, and retries it', async () => {
    const client = scripted([10_000]);
    const p = puller(client, { inactivityTimeoutMs: 60_000, retries: 1 });
    const outcome = p.pull(A).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(69_999);
    expect(client.started).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    // 1 s of backoff, then the second attempt stalls the same way.
    await vi.advanceTimersByTimeAsync(1_000 + 70_000);
    const error = await outcome;
    expect(client.started).toBe(2);
    expect(error).toBeInstanceOf(PullTimeoutError);
    expect(error).toMatchObject({ kind: 'inactivity', timeoutMs: 60_000, retryable: true });
    expect((error as Error).message).toBe(`pulling ${A} failed: no progress for 60000 ms (the inactivity timeout, --image-pull-inactivity-timeout)`);
  });

  it('counts inactivity from the last progress line: a slow but steady pull is never cut off', async () => {
    const client = scripted([50_000, 100_000, 150_000], 200_000);
    const p = puller(client, { inactivityTimeoutMs: 60_000, retries: 0 }).pull(A);
    await vi.advanceTimersByTimeAsync(200_000);
    expect(await stateOf(p)).toBe('resolved');
    expect(client.started).toBe(1);
  });

  it('aborts an attempt not done within the overall timeout, though it keeps making progress', async () => {
    const client = scripted(Array.from({ length: 100 }, (_, i) => (i + 1) * 1_000));
    const outcome = puller(client, { timeoutMs: 30_000, inactivityTimeoutMs: 60_000, retries: 0 }).pull(A).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(await stateOf(outcome)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toMatchObject({ kind: 'overall', timeoutMs: 30_000, message: expect.stringMatching(/not done within 30000 ms \(the overall timeout, --image-pull-timeout\)/) });
  });

  it('does not count the wait for a slot against an attempt', async () => {
    const slow = scripted([], 50_000);
    const p = puller(slow, { timeoutMs: 40_000, inactivityTimeoutMs: 0, retries: 0 }, 1);
    const first = p.pull(A).catch((e: unknown) => e);
    const second = p.pull(B).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(39_999);
    expect(slow.started).toBe(1);
    // The first times out at 40 s, and only then does the second start: its 40 s count from there.
    await vi.advanceTimersByTimeAsync(1);
    expect(await first).toBeInstanceOf(PullTimeoutError);
    expect(slow.started).toBe(2);
    await vi.advanceTimersByTimeAsync(39_999);
    expect(await stateOf(second)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(await second).toBeInstanceOf(PullTimeoutError);
  });

  it('has no timeout at all when both are 0', async () => {
    const client = scripted([], 10 * 3_600_000);
    const p = puller(client, { timeoutMs: 0, inactivityTimeoutMs: 0, retries: 0 }).pull(A);
    await vi.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(await stateOf(p)).toBe('resolved');
  });
});

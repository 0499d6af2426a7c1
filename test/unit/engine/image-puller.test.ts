import { describe, expect, it } from 'vitest';
import type { ImageClient, PullOptions } from '../../../src/docker/docker-client.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { ImagePullError, PullCancelledError } from '../../../src/errors.js';
import { ImagePuller } from '../../../src/engine/image-puller.js';

const A = 'registry.test:5000/a:1';
const B = 'registry.test:5000/b:1';
const C = 'registry.test:5000/c:1';

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** The fake Docker, with the signal of every pull it was asked for. */
function setup(images: string[] = [A, B, C, 'docker.io/library/busybox:latest']): { docker: FakeDocker; signals: AbortSignal[]; client: ImageClient } {
  const docker = new FakeDocker({ images });
  const signals: AbortSignal[] = [];
  const client: ImageClient = {
    pullImage: (image: string, options?: PullOptions) => {
      if (options?.signal) signals.push(options.signal);
      return docker.pullImage(image, options);
    },
    inspectImage: (ref) => docker.inspectImage(ref),
    listImages: () => docker.listImages(),
    removeImage: (ref) => docker.removeImage(ref),
  };
  return { docker, signals, client };
}

const pulls = (docker: FakeDocker): string[] => docker.calls.filter((c) => c.op === 'pull').map((c) => c.arg);

/** Lets every settled promise's handlers run; the fake settles in microtasks. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The state of a promise right now, without waiting for it. */
async function stateOf(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  const pending = Symbol('pending');
  try {
    return (await Promise.race([p, settle().then(() => pending)])) === pending ? 'pending' : 'resolved';
  } catch {
    return 'rejected';
  }
}

describe('ImagePuller', () => {
  it('shares one Docker pull between concurrent requests for the same image, however it is spelled', async () => {
    const { docker, client } = setup();
    const held = gate();
    docker.delayNext('pull', held.promise);
    const puller = new ImagePuller(client, 2);
    const first = puller.pull('busybox');
    const second = puller.pull('docker.io/library/busybox:latest');
    const third = puller.pull('library/busybox:latest');
    await settle();
    expect(pulls(docker)).toEqual(['busybox']);
    held.open();
    await expect(Promise.all([first, second, third])).resolves.toEqual([undefined, undefined, undefined]);
    expect(pulls(docker)).toHaveLength(1);
    expect(docker.hasImage('busybox')).toBe(true);
  });

  it('gives every request on a shared pull its progress lines', async () => {
    const { client } = setup();
    const puller = new ImagePuller(client, 2);
    const seen: string[][] = [[], []];
    await Promise.all(seen.map((lines) => puller.pull(A, { onProgress: (p) => lines.push(p.status) })));
    expect(seen[0]).toContain('Pull complete');
    expect(seen[1]).toEqual(seen[0]);
  });

  it('fails every request on a shared pull with the same error', async () => {
    const { docker, client } = setup();
    const held = gate();
    docker.delayNext('pull', held.promise);
    const refused = new ImagePullError(A, 'unauthorized');
    docker.failNext('pull', refused);
    const puller = new ImagePuller(client, 2);
    const results = [puller.pull(A), puller.pull(A)].map((p) => p.then(() => 'pulled', (e: unknown) => e));
    held.open();
    expect(await Promise.all(results)).toEqual([refused, refused]);
    expect(pulls(docker)).toHaveLength(1);
  });

  it('pulls again once a pull has finished: a finished pull is not remembered', async () => {
    const { docker, client } = setup();
    const puller = new ImagePuller(client, 2);
    await puller.pull(A);
    await puller.pull(A);
    expect(pulls(docker)).toEqual([A, A]);
  });

  it('runs at most the limit of Docker pulls at once; the next waits, told so, until a slot frees', async () => {
    const { docker, client } = setup();
    const heldA = gate();
    const heldB = gate();
    docker.delayNext('pull', heldA.promise);
    docker.delayNext('pull', heldB.promise);
    const puller = new ImagePuller(client, 2);
    const waitingA: boolean[] = [];
    const waitingC: boolean[] = [];
    const a = puller.pull(A, { onWaiting: (w) => waitingA.push(w) });
    const b = puller.pull(B);
    const c = puller.pull(C, { onWaiting: (w) => waitingC.push(w) });
    await settle();
    expect(pulls(docker)).toEqual([A, B]);
    expect(waitingC).toEqual([true]);
    expect(await stateOf(c)).toBe('pending');
    // A request joining a pull that waits is told at once that it waits.
    const lateC: boolean[] = [];
    const c2 = puller.pull(C, { onWaiting: (w) => lateC.push(w) });
    expect(lateC).toEqual([true]);

    heldA.open();
    await a;
    await Promise.all([c, c2]);
    expect(pulls(docker)).toEqual([A, B, C]);
    expect(waitingC).toEqual([true, false]);
    expect(lateC).toEqual([true, false]);
    expect(waitingA).toEqual([]);
    expect(await stateOf(b)).toBe('pending');
    heldB.open();
    await b;
  });

  it('frees the slot of a failed pull for the next one', async () => {
    const { docker, client } = setup();
    docker.failNext('pull', new ImagePullError(A, 'boom'));
    const puller = new ImagePuller(client, 1);
    const a = puller.pull(A);
    const b = puller.pull(B);
    await expect(a).rejects.toThrow('boom');
    await b;
    expect(pulls(docker)).toEqual([A, B]);
  });

  it('releases a request cancelled while waiting for a slot at once, without a Docker pull, and the others still get their image', async () => {
    const { docker, client } = setup();
    const held = gate();
    docker.delayNext('pull', held.promise);
    const puller = new ImagePuller(client, 1);
    const a = puller.pull(A);
    const stop = new AbortController();
    const b = puller.pull(B, { signal: stop.signal });
    const c = puller.pull(C);
    await settle();
    stop.abort();
    await expect(b).rejects.toBeInstanceOf(PullCancelledError);
    expect(await stateOf(a)).toBe('pending');
    held.open();
    await Promise.all([a, c]);
    expect(pulls(docker)).toEqual([A, C]);
    expect(docker.hasImage(B)).toBe(false);
  });

  it('releases a request cancelled while sharing a pull at once, and leaves the pull to the others', async () => {
    const { docker, client, signals } = setup();
    const held = gate();
    docker.delayNext('pull', held.promise);
    const puller = new ImagePuller(client, 2);
    const stop = new AbortController();
    const leaving = puller.pull(A, { signal: stop.signal });
    const staying = puller.pull(A);
    await settle();
    stop.abort();
    await expect(leaving).rejects.toBeInstanceOf(PullCancelledError);
    expect(signals[0]!.aborted).toBe(false);
    held.open();
    await staying;
    expect(pulls(docker)).toEqual([A]);
    expect(docker.hasImage(A)).toBe(true);
  });

  it('aborts the shared Docker pull only when every request on it is cancelled, and frees its slot', async () => {
    const { docker, client, signals } = setup();
    docker.delayNext('pull', new Promise(() => {}));
    const puller = new ImagePuller(client, 1);
    const stops = [new AbortController(), new AbortController()];
    const onA = stops.map((s) => puller.pull(A, { signal: s.signal }));
    const b = puller.pull(B);
    await settle();
    stops[0]!.abort();
    await expect(onA[0]).rejects.toBeInstanceOf(PullCancelledError);
    expect(signals[0]!.aborted).toBe(false);
    stops[1]!.abort();
    await expect(onA[1]).rejects.toBeInstanceOf(PullCancelledError);
    expect(signals[0]!.aborted).toBe(true);
    await b;
    expect(pulls(docker)).toEqual([A, B]);
    // The aborted pull is gone: a new request for the image pulls afresh.
    await puller.pull(A);
    expect(pulls(docker)).toEqual([A, B, A]);
  });

  it('refuses a request whose signal has already aborted, without a Docker pull', async () => {
    const { docker, client } = setup();
    const puller = new ImagePuller(client, 1);
    await expect(puller.pull(A, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(PullCancelledError);
    expect(pulls(docker)).toEqual([]);
  });

  it('refuses a limit that is not a whole number of at least 1', () => {
    const { client } = setup();
    expect(() => new ImagePuller(client, 0)).toThrow('max concurrent pulls must be a whole number of at least 1, got 0');
  });
});

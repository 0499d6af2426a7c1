import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import winston from 'winston';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import type { PullProgressSnapshot } from '../../../src/engine/pull-progress.js';
import { containerDef, taskDef } from '../../support/fixtures.js';
import { running, stopped, trackedEngines, waitForTask } from '../../support/engine-harness.js';

const engineFor = trackedEngines(afterEach);

const IMAGES = ['registry.test:5000/one:1', 'registry.test:5000/two:1', 'registry.test:5000/three:1'];

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A logger that keeps every message, to see when containers have asked for their pulls. */
function recordingLogger(): { log: winston.Logger; messages: string[] } {
  const messages: string[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: { message: string }, _encoding, done) {
      messages.push(info.message);
      done();
    },
  });
  return { log: winston.createLogger({ level: 'info', transports: [new winston.transports.Stream({ stream })] }), messages };
}

/** Resolves once `condition` holds, checking every few milliseconds; fails after `ms`. */
async function until(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const pullCount = (docker: FakeDocker): number => docker.calls.filter((c) => c.op === 'pull').length;

describe('TaskEngine pulls', () => {
  it('starts 5 tasks sharing 2 images with exactly 2 Docker pulls', async () => {
    const docker = new FakeDocker({ images: IMAGES });
    const { log, messages } = recordingLogger();
    const { engine } = engineFor({ docker, log });
    const held = [gate(), gate()];
    for (const g of held) docker.delayNext('pull', g.promise);
    await engine.start();
    const arns = [0, 1, 2, 3, 4].map((i) => `arn:shared-${i}`);
    await Promise.all(arns.map((arn, i) => engine.addTask({ kind: 'definition', task: taskDef(arn, [containerDef('app', { image: IMAGES[i % 2]! })]) })));
    await until(() => messages.filter((m) => m === 'Pulling image…').length === 5, 'every container asking for its image');
    expect(pullCount(docker)).toBe(2);
    for (const g of held) g.open();
    await Promise.all(arns.map((arn) => waitForTask(engine, arn, running)));
    expect(pullCount(docker)).toBe(2);
  });

  it('holds a third image behind the limit of 2, shown as waiting in the progress, until a slot frees', async () => {
    const docker = new FakeDocker({ images: IMAGES });
    const { engine } = engineFor({ docker, maxConcurrentPulls: 2 });
    const snapshots: PullProgressSnapshot[] = [];
    engine.onPullProgress((s) => snapshots.push(s));
    const held = [gate(), gate()];
    for (const g of held) docker.delayNext('pull', g.promise);
    await engine.start();
    for (const [i, image] of IMAGES.entries()) {
      await engine.addTask({ kind: 'definition', task: taskDef(`arn:limit-${i}`, [containerDef('app', { image })]) });
    }
    await until(() => snapshots.some((s) => s.taskArn === 'arn:limit-2' && s.waiting), 'a waiting snapshot of the third task');
    expect(snapshots.find((s) => s.taskArn === 'arn:limit-2')).toMatchObject({ waiting: true, status: 'Waiting for a pull slot', done: false });
    expect(pullCount(docker)).toBe(2);
    expect(engine.getTask('arn:limit-2')!.containers[0]!.knownStatus).toBe('NONE');

    held[0]!.open();
    await waitForTask(engine, 'arn:limit-2', running);
    expect(pullCount(docker)).toBe(3);
    expect(snapshots.filter((s) => s.taskArn === 'arn:limit-2').at(-1)).toMatchObject({ waiting: false, done: true, result: 'pulled' });
    held[1]!.open();
    await waitForTask(engine, 'arn:limit-1', running);
  });

  it('stops a task whose pull waits for a slot at once, without a Docker pull, while the pull holding the slot goes on', async () => {
    const docker = new FakeDocker({ images: IMAGES });
    const { engine } = engineFor({ docker, maxConcurrentPulls: 1 });
    const snapshots: PullProgressSnapshot[] = [];
    engine.onPullProgress((s) => snapshots.push(s));
    const held = gate();
    docker.delayNext('pull', held.promise);
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef('arn:holding', [containerDef('app', { image: IMAGES[0]! })]) });
    await engine.addTask({ kind: 'definition', task: taskDef('arn:waiting', [containerDef('app', { image: IMAGES[1]! })]) });
    await until(() => snapshots.some((s) => s.taskArn === 'arn:waiting' && s.waiting), 'a waiting snapshot');
    await engine.addTask({ kind: 'desired-status', arn: 'arn:waiting', desiredStatus: 'STOPPED' });
    await waitForTask(engine, 'arn:waiting', stopped);
    expect(docker.calls.filter((c) => c.op === 'pull').map((c) => c.arg)).toEqual([IMAGES[0]]);
    held.open();
    await waitForTask(engine, 'arn:holding', running);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { taskView } from '../../../src/api/view.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { ImagePullError } from '../../../src/errors.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { recordingLogger } from '../../support/recording-logger.js';
import { containerDef, IMAGE, taskDef } from '../../support/fixtures.js';
import { running, stopped, TEST_PULLS, trackedEngines, waitForTask } from '../../support/engine-harness.js';

const engineFor = trackedEngines(afterEach);
const ARN = 'arn:aws:ecs:local:000000000000:task/pulls/1';
const ARN2 = 'arn:aws:ecs:local:000000000000:task/pulls/2';
const NORMALIZED = 'registry.test:5000/berth/busybox:latest';

/** A fake Docker holding IMAGE locally (pulled once, by someone else), whose registry then refuses the next pull. */
async function cachedButUnpullable(): Promise<{ docker: FakeDocker; cached: { id: string; digest: string } }> {
  const docker = new FakeDocker();
  const cached = docker.publishImage(IMAGE);
  await docker.pullImage(IMAGE);
  docker.calls.length = 0;
  docker.failNext('pull', new ImagePullError(IMAGE, `manifest for ${IMAGE} not found: manifest unknown`));
  return { docker, cached };
}

const pulls = (docker: FakeDocker): number => docker.calls.filter((c) => c.op === 'pull').length;

describe('pull behaviours', () => {
  it('reports the digest and ID of a pulled image on the container, its view, its events and the image records', async () => {
    const docker = new FakeDocker();
    const published = docker.publishImage(IMAGE);
    const { engine, events, saver } = engineFor({ docker });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    const t = await waitForTask(engine, ARN, running);
    expect(t.containers[0]).toMatchObject({ imageId: published.id, imageDigest: published.digest, imageSource: 'pulled' });
    expect(t.containers[0]!.pullFailure).toBeUndefined();
    expect(taskView(t).containers[0]).toMatchObject({ imageId: published.id, imageDigest: published.digest, imageSource: 'pulled' });
    const containerEvents = events.filter((e) => e.type === 'container');
    expect(containerEvents.map((e) => [e.status, e.imageDigest])).toEqual([
      ['PULLED', published.digest],
      ['CREATED', published.digest],
      ['RUNNING', published.digest],
    ]);
    await engine.imageRecords.flush();
    const [record] = await saver.loadImages();
    expect(record).toMatchObject({ ref: NORMALIZED, imageId: published.id, digest: published.digest });
    // Pulled, then used by the container made from it.
    expect(record!.pulledAt).toBeLessThanOrEqual(record!.lastUsedAt);
  });

  it('default: runs the cached image when the pull fails, and says so in a warning, the view and the PULLED event', async () => {
    const { docker, cached } = await cachedButUnpullable();
    const { log, lines } = recordingLogger();
    const { engine, events } = engineFor({ docker, log });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    const t = await waitForTask(engine, ARN, running);
    expect(pulls(docker)).toBe(1);
    const view = taskView(t).containers[0]!;
    expect(view).toMatchObject({ imageId: cached.id, imageDigest: cached.digest, imageSource: 'cached-after-failure' });
    expect(view.pullFailure).toMatch(/manifest unknown/);
    expect(events.find((e) => e.status === 'PULLED')).toMatchObject({ imageSource: 'cached-after-failure', imageDigest: cached.digest });
    const warning = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 'warn' && String(l.message).startsWith('Failed to pull image'));
    expect(warning).toMatchObject({ message: `Failed to pull image; running the cached image ${cached.id}`, image: IMAGE, error: expect.stringMatching(/manifest unknown/) });
  });

  it('default: a failed pull with no cached image stops the container with PullFailed', async () => {
    const docker = new FakeDocker();
    const { engine } = engineFor({ docker });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN, [containerDef('app', { image: 'registry.test:5000/never:1' })]) });
    const t = await waitForTask(engine, ARN, stopped);
    expect(t.containers[0]!.reason?.code).toBe('PullFailed');
  });

  it('always: a failed pull fails, though a cached image is there', async () => {
    const { docker } = await cachedButUnpullable();
    const { engine } = engineFor({ docker, pulls: { ...TEST_PULLS, behavior: 'always' } });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    const t = await waitForTask(engine, ARN, stopped);
    expect(t.containers[0]!.reason).toMatchObject({ code: 'PullFailed', message: expect.stringMatching(/manifest unknown/) });
    expect(docker.containerCount()).toBe(0);
  });

  it('a container definition overrides the agent: always on the container beats default on the agent', async () => {
    const { docker } = await cachedButUnpullable();
    const { engine } = engineFor({ docker });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN, [containerDef('app', { imagePullBehavior: 'always' })]) });
    const t = await waitForTask(engine, ARN, stopped);
    expect(t.containers[0]!.reason?.code).toBe('PullFailed');
  });

  it('prefer-cached: uses the local image without pulling, and pulls one that is not there', async () => {
    const docker = new FakeDocker();
    const cached = docker.publishImage(IMAGE);
    await docker.pullImage(IMAGE);
    docker.calls.length = 0;
    docker.publishImage('registry.test:5000/other:1');
    const { engine } = engineFor({ docker, pulls: { ...TEST_PULLS, behavior: 'prefer-cached' } });
    await engine.start();
    await engine.addTask({
      kind: 'definition',
      task: taskDef(ARN, [containerDef('app'), containerDef('other', { image: 'registry.test:5000/other:1' })]),
    });
    const t = await waitForTask(engine, ARN, running);
    expect(docker.calls.filter((c) => c.op === 'pull').map((c) => c.arg)).toEqual(['registry.test:5000/other:1']);
    expect(t.containers[0]).toMatchObject({ imageSource: 'cached', imageId: cached.id, imageDigest: cached.digest });
    expect(t.containers[1]).toMatchObject({ imageSource: 'pulled' });
  });

  it('once: pulls an image this agent never pulled, then uses it cached, also after a restart', async () => {
    const docker = new FakeDocker();
    docker.publishImage(IMAGE);
    await docker.pullImage(IMAGE);
    docker.calls.length = 0;
    const saver = new MemorySaver();
    const once = { ...TEST_PULLS, behavior: 'once' as const };
    const first = engineFor({ docker, saver, pulls: once });
    await first.engine.start();
    // Cached, but found rather than pulled by this agent: pulled.
    await first.engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    await waitForTask(first.engine, ARN, running);
    expect(pulls(docker)).toBe(1);
    await first.engine.close();

    const second = engineFor({ docker, saver, pulls: once });
    await second.engine.start();
    await second.engine.addTask({ kind: 'definition', task: taskDef(ARN2) });
    const t = await waitForTask(second.engine, ARN2, running);
    expect(pulls(docker)).toBe(1);
    expect(t.containers[0]!.imageSource).toBe('cached');
  });

  it('once: pulls again an image it pulled that has since been removed', async () => {
    const docker = new FakeDocker();
    docker.publishImage(IMAGE);
    const { engine } = engineFor({ docker, pulls: { ...TEST_PULLS, behavior: 'once' } });
    await engine.start();
    await engine.imageRecords.notePulled(IMAGE, { imageId: 'sha256:gone' }, 1);
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    await waitForTask(engine, ARN, running);
    expect(pulls(docker)).toBe(1);
  });

  it('notes the use of a cached image when a container is made from it, without a pull time', async () => {
    const { docker, cached } = await cachedButUnpullable();
    const { engine, saver } = engineFor({ docker, pulls: { ...TEST_PULLS, behavior: 'prefer-cached' } });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    await waitForTask(engine, ARN, running);
    await engine.imageRecords.flush();
    expect(await saver.loadImages()).toEqual([{ ref: NORMALIZED, imageId: cached.id, lastUsedAt: expect.any(Number) }]);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { dockerVolumeName, ownershipFilter } from '../../../src/api/labels.js';
import type { VolumeDefinition } from '../../../src/api/task.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { containerSpec } from '../../../src/engine/container-spec.js';
import type { TaskEngine } from '../../../src/engine/task-engine.js';
import { newTaskState } from '../../../src/engine/task-state.js';
import { containerDef, taskDef } from '../../support/fixtures.js';
import { AGENT_ID, running, stopped, trackedEngines, waitForTask } from '../../support/engine-harness.js';

/* Cleanup end to end on the fake Docker: a task's containers and volumes at its cleanup, its images after. */

const engineFor = trackedEngines(afterEach);
const MIN = 60_000;
const A = 'registry.test:5000/berth/variant:0';
const B = 'registry.test:5000/berth/variant:1';
const CLEANUP = { intervalMs: 1_000, minimumAgeMs: 0, perPass: 5, exclude: [] };
const scratch: VolumeDefinition = { name: 'scratch', kind: 'task', autoprovision: false, driver: 'local', driverOpts: {}, labels: {} };
const withVolume = { mountPoints: [{ sourceVolume: 'scratch', containerPath: '/data', readOnly: false }] };

/** The records pulls and creates keep, made sure of here: this test is about what cleanup does with them. */
async function noteImages(engine: TaskEngine, docker: FakeDocker, ...images: string[]): Promise<void> {
  for (const image of images) await engine.imageRecords.notePulled(image, { imageId: (await docker.inspectImage(image)).id }, Date.now());
}

async function stopTask(engine: TaskEngine, arn: string): Promise<void> {
  await engine.addTask({ kind: 'desired-status', arn, desiredStatus: 'STOPPED' });
  await waitForTask(engine, arn, stopped);
}

describe('cleanup on the engine', () => {
  it('no container or task volume of a task outlives its cleanup wait, and its images go at the next image pass', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const docker = new FakeDocker({ images: [A, B] });
    const { engine } = engineFor({ docker, cleanupWaitMs: 10 * MIN, imageCleanup: CLEANUP });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef('arn:one', [containerDef('app', { image: A, ...withVolume }), containerDef('side', { image: B })], { volumes: [scratch] }) });
    await engine.addTask({ kind: 'definition', task: taskDef('arn:two', [containerDef('app', { image: A })]) });
    await waitForTask(engine, 'arn:one', running);
    await waitForTask(engine, 'arn:two', running);
    await noteImages(engine, docker, A, B);
    await stopTask(engine, 'arn:one');
    await stopTask(engine, 'arn:two');
    const volume = dockerVolumeName('arn:one', scratch, AGENT_ID);

    await vi.advanceTimersByTimeAsync(9 * MIN);
    expect(await docker.listContainers(ownershipFilter(AGENT_ID))).toHaveLength(3);
    expect(docker.hasVolume(volume)).toBe(true);
    expect([docker.hasImage(A), docker.hasImage(B)]).toEqual([true, true]);

    await vi.advanceTimersByTimeAsync(2 * MIN);
    await vi.waitFor(() => expect(engine.listTasks()).toEqual([]));
    expect(await docker.listContainers(ownershipFilter(AGENT_ID))).toEqual([]);
    expect(docker.hasVolume(volume)).toBe(false);
    await vi.advanceTimersByTimeAsync(1_500);
    await vi.waitFor(() => expect([docker.hasImage(A), docker.hasImage(B)]).toEqual([false, false]));
    expect(engine.imageRecords.all()).toEqual([]);
  });

  it('keeps an image while another task still references it, and removes it once that task is forgotten too', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const docker = new FakeDocker({ images: [A] });
    const { engine } = engineFor({ docker, cleanupWaitMs: 0, imageCleanup: CLEANUP });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef('arn:first', [containerDef('app', { image: A })]) });
    await engine.addTask({ kind: 'definition', task: taskDef('arn:second', [containerDef('app', { image: A })]) });
    await waitForTask(engine, 'arn:second', running);
    await noteImages(engine, docker, A);
    await stopTask(engine, 'arn:first');
    await vi.waitFor(() => expect(engine.getTask('arn:first')).toBeUndefined());
    await vi.advanceTimersByTimeAsync(3_000);
    expect(docker.hasImage(A)).toBe(true);
    expect(docker.calls.filter((c) => c.op === 'image-remove')).toEqual([]);

    await engine.addTask({ kind: 'desired-status', arn: 'arn:second', desiredStatus: 'STOPPED' });
    await vi.waitFor(() => expect(engine.getTask('arn:second')).toBeUndefined());
    await vi.advanceTimersByTimeAsync(1_500);
    await vi.waitFor(() => expect(docker.hasImage(A)).toBe(false));
  });

  it('without image cleanup configured, no image is ever removed', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const docker = new FakeDocker({ images: [A] });
    const { engine } = engineFor({ docker, cleanupWaitMs: 0 });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef('arn:once', [containerDef('app', { image: A })]) });
    await waitForTask(engine, 'arn:once', running);
    await noteImages(engine, docker, A);
    await stopTask(engine, 'arn:once');
    await vi.waitFor(() => expect(engine.getTask('arn:once')).toBeUndefined());
    await vi.advanceTimersByTimeAsync(60 * MIN);
    expect(docker.hasImage(A)).toBe(true);
  });

  it('the relist removes a container of a task already forgotten, after the orphan grace', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const docker = new FakeDocker({ images: [A] });
    const { engine } = engineFor({ docker, cleanupWaitMs: 0, relist: { intervalMs: 1_000, orphanGraceMs: 5_000 } });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef('arn:gone', [containerDef('app', { image: A })]) });
    await waitForTask(engine, 'arn:gone', running);
    await stopTask(engine, 'arn:gone');
    await vi.waitFor(() => expect(engine.getTask('arn:gone')).toBeUndefined());
    // A create whose answer was lost shows up after the task was forgotten.
    const late = newTaskState(taskDef('arn:gone', [containerDef('app', { image: A })]), Date.now(), AGENT_ID);
    await docker.createContainer({ ...containerSpec(late, late.containers[0]!, AGENT_ID), name: 'late-create' });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await docker.listContainers(ownershipFilter(AGENT_ID))).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5_000);
    await vi.waitFor(async () => expect(await docker.listContainers(ownershipFilter(AGENT_ID))).toEqual([]));
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { LABELS } from '../../../../src/api/labels.js';
import type { TaskDefinition, TaskState } from '../../../../src/api/task.js';
import { FakeDocker } from '../../../../src/docker/fake-docker.js';
import { containerSpec } from '../../../../src/engine/container-spec.js';
import { newTaskState } from '../../../../src/engine/task-state.js';
import { MemorySaver } from '../../../../src/state/memory-saver.js';
import { AGENT_ID, trackedEngines, waitForTask } from '../../../support/engine-harness.js';
import { containerDef, IMAGE, taskDef } from '../../../support/fixtures.js';

const engineFor = trackedEngines(afterEach);
const ARN = 'arn:test:task/drift';

/** db ← app (START) ← proxy (START); side stands alone. */
const gen1 = taskDef(ARN, [
  containerDef('db'),
  containerDef('app', { dependsOn: [{ containerName: 'db', condition: 'START' }] }),
  containerDef('side', { essential: false }),
]);

const withContainer = (def: TaskDefinition, name: string, change: object): TaskDefinition => ({
  ...def,
  containers: def.containers.map((c) => (c.name === name ? { ...c, ...change } : c)),
});

/** Every container of the generation runs, and no old instance is left. */
const converged = (generation: number) => (t: TaskState): boolean =>
  (t.generation ?? 1) === generation && t.retiring === undefined && t.containers.every((c) => c.knownStatus === 'RUNNING');

const ids = (t: TaskState): Record<string, string | undefined> => Object.fromEntries(t.containers.map((c) => [c.definition.name, c.dockerId]));

async function runningTask(docker = new FakeDocker({ images: [IMAGE] }), saver = new MemorySaver(), recreateOnDrift = false) {
  const made = engineFor({ docker, saver, recreateOnDrift });
  await made.engine.start();
  await made.engine.addTask({ kind: 'definition', task: gen1 });
  const first = await waitForTask(made.engine, ARN, converged(1));
  return { ...made, first };
}

describe('a new definition for a running task', () => {
  it('recreates only the container that changed; the others keep their Docker IDs', async () => {
    const { engine, docker, events, first } = await runningTask();
    const { task } = await engine.addTask({ kind: 'definition', task: withContainer(gen1, 'side', { environment: { MODE: 'new' } }) });
    expect(task.generation).toBe(2);
    const after = await waitForTask(engine, ARN, converged(2));
    expect(ids(after).db).toBe(ids(first).db);
    expect(ids(after).app).toBe(ids(first).app);
    expect(ids(after).side).not.toBe(ids(first).side);
    expect(docker.containerCount()).toBe(3);
    expect(docker.specOf(ids(after).side!).env).toMatchObject({ MODE: 'new' });
    expect(after.knownStatus).toBe('RUNNING');
    expect(after.desiredStatus).toBe('RUNNING');
    // The old instance ends with ContainerRecreated, the new one reports with generation 2; the task says it too.
    const gen2 = events.filter((e) => e.generation === 2);
    expect(gen2.filter((e) => e.type === 'container').map((e) => `${e.containerName} ${e.status} ${e.reason ?? ''}`.trim())).toEqual([
      'side STOPPED ContainerRecreated',
      'side PULLED',
      'side CREATED',
      'side RUNNING',
    ]);
    expect(gen2.filter((e) => e.type === 'task').map((e) => e.status)).toEqual(['RUNNING']);
    expect(events.filter((e) => e.type === 'task' && e.status === 'STOPPED')).toEqual([]);
  });

  it('is no new generation when the definition is the same', async () => {
    const { engine, docker } = await runningTask();
    const { task } = await engine.addTask({ kind: 'definition', task: gen1 });
    expect(task.generation).toBeUndefined();
    expect(docker.calls.filter((c) => c.op === 'create')).toHaveLength(3);
  });

  it('keeps a container whose change does not reach Docker (essential), under the new definition', async () => {
    const { engine, first } = await runningTask();
    await engine.addTask({ kind: 'definition', task: withContainer(gen1, 'side', { essential: true }) });
    const after = await waitForTask(engine, ARN, converged(2));
    expect(ids(after)).toEqual(ids(first));
    expect(after.containers.find((c) => c.definition.name === 'side')!.definition.essential).toBe(true);
  });

  it('stops dependents before their dependencies, and creates them after, per the new dependsOn; the essential ones\' stops never stop the task', async () => {
    const { engine, docker, events, first } = await runningTask();
    const mark = docker.calls.length;
    const next = withContainer(withContainer(gen1, 'db', { environment: { V: '2' } }), 'app', { environment: { V: '2' } });
    await engine.addTask({ kind: 'definition', task: next });
    const after = await waitForTask(engine, ARN, converged(2));
    expect(ids(after).side).toBe(ids(first).side);
    const calls = docker.calls.slice(mark).filter((c) => ['stop', 'remove', 'create', 'start'].includes(c.op));
    const at = (op: string, arg: string): number => calls.findIndex((c) => c.op === op && c.arg === arg);
    expect(at('stop', ids(first).app!)).toBeLessThan(at('stop', ids(first).db!));
    expect(at('remove', ids(first).db!)).toBeLessThan(at('create', after.containers[0]!.dockerName));
    expect(at('start', ids(after).db!)).toBeLessThan(at('create', after.containers[1]!.dockerName));
    expect(after.desiredStatus).toBe('RUNNING');
    expect(events.filter((e) => e.type === 'task' && e.status === 'STOPPED')).toEqual([]);
    expect(events.filter((e) => e.reason === 'EssentialContainerExited')).toEqual([]);
  });

  it('removes a dropped container and creates a new one', async () => {
    const { engine, docker, first } = await runningTask();
    const next: TaskDefinition = { ...gen1, containers: [gen1.containers[0]!, gen1.containers[1]!, containerDef('extra', { essential: false })] };
    await engine.addTask({ kind: 'definition', task: next });
    const after = await waitForTask(engine, ARN, converged(2));
    expect(after.containers.map((c) => c.definition.name)).toEqual(['db', 'app', 'extra']);
    expect(docker.containerCount()).toBe(3);
    await expect(docker.inspectContainer(ids(first).side!)).rejects.toThrow();
  });

  it('starts a stopped task over with the new definition\'s desired status', async () => {
    const { engine } = await runningTask();
    await engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    await waitForTask(engine, ARN, (t) => t.knownStatus === 'STOPPED');
    await engine.addTask({ kind: 'definition', task: { ...gen1, version: '2' } });
    const after = await waitForTask(engine, ARN, converged(2));
    expect(after.knownStatus).toBe('RUNNING');
    expect(after.stoppedAt).toBeUndefined();
  });

  it('finishes a recreate after a crash half-way (old instance stopped, not removed): one container per name, unchanged IDs kept', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    const saver = new MemorySaver();
    const { engine, first } = await runningTask(docker, saver);
    let release!: () => void;
    docker.delayNext('remove', new Promise<void>((r) => (release = r)));
    await engine.addTask({ kind: 'definition', task: withContainer(gen1, 'side', { environment: { MODE: 'new' } }) });
    await until(() => docker.calls.some((c) => c.op === 'remove' && c.arg === ids(first).side));
    await engine.close();
    release();
    const restarted = engineFor({ docker, saver });
    await restarted.engine.start();
    const after = await waitForTask(restarted.engine, ARN, converged(2));
    expect(ids(after).db).toBe(ids(first).db);
    expect(ids(after).app).toBe(ids(first).app);
    const listed = await docker.listContainers({ [LABELS.taskArn]: ARN });
    expect(listed.map((c) => c.labels[LABELS.containerName]).sort()).toEqual(['app', 'db', 'side']);
  });

  it('never adopts a container found by name that an older definition made: it is removed and the new one created', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    const old = newTaskState(withContainer(gen1, 'side', { environment: { MODE: 'old' } }), 0, AGENT_ID);
    await docker.pullImage(IMAGE);
    const staleId = await docker.createContainer(containerSpec(old, old.containers[2]!, AGENT_ID));
    const { first } = await runningTask(docker);
    expect(ids(first).side).not.toBe(staleId);
    expect(docker.specOf(ids(first).side!).env).not.toMatchObject({ MODE: 'old' });
    expect(docker.containerCount()).toBe(3);
  });
});

describe('drift in Docker', () => {
  /** The record says `side` was made from another definition than the one Docker's container carries. */
  async function drifted(recreateOnDrift: boolean, containerDrifted = vi.fn()) {
    const docker = new FakeDocker({ images: [IMAGE] });
    const saver = new MemorySaver();
    const { engine, first } = await runningTask(docker, saver);
    await engine.close();
    const [saved] = await saver.loadTasks();
    const edited = { ...saved!, containers: saved!.containers.map((c) => (c.definition.name === 'side' ? { ...c, definition: { ...c.definition, environment: { X: 'y' } } } : c)) };
    await saver.commit({ put: [edited], events: [] });
    const observer = { observeTransition: vi.fn(), eventStreamReconnect: vi.fn(), containerDrifted };
    const restarted = engineFor({ docker, saver, recreateOnDrift, observer });
    await restarted.engine.start();
    return { ...restarted, first };
  }

  it('is reported (ContainerDrifted) and left alone without --recreate-on-drift', async () => {
    const containerDrifted = vi.fn();
    const { engine, docker, first } = await drifted(false, containerDrifted);
    // Drift changes no status, so it makes no state-change event: the view and a log line report it.
    await engine.idle();
    const side = engine.getTask(ARN)!.containers.find((c) => c.definition.name === 'side')!;
    expect(side.drift).toMatchObject({ code: 'ContainerDrifted', message: expect.stringContaining(LABELS.definitionHash) });
    expect(containerDrifted).toHaveBeenCalledTimes(1);
    expect(ids(engine.getTask(ARN)!)).toEqual(ids(first));
    expect(docker.calls.filter((c) => c.op === 'create')).toHaveLength(3);
  });

  it('is recreated with --recreate-on-drift, the task kept running', async () => {
    const { engine, docker, first } = await drifted(true);
    const t = await waitForTask(engine, ARN, (x) => x.retiring === undefined && x.containers.every((c) => c.knownStatus === 'RUNNING' && c.drift === undefined) && ids(x).side !== ids(first).side);
    expect(ids(t).db).toBe(ids(first).db);
    expect(t.knownStatus).toBe('RUNNING');
    expect(docker.specOf(ids(t).side!).env).toMatchObject({ X: 'y' });
    expect(docker.containerCount()).toBe(3);
  });
});

describe('an image re-tagged to another digest', () => {
  async function retagged(recreateOnDrift: boolean) {
    const docker = new FakeDocker({ images: [IMAGE] });
    const made = engineFor({ docker, recreateOnDrift, relist: { intervalMs: 20, orphanGraceMs: 60_000 } });
    await made.engine.start();
    await made.engine.addTask({ kind: 'definition', task: gen1 });
    const first = await waitForTask(made.engine, ARN, converged(1));
    // Someone pushes a new image under the same tag, and it is pulled onto this host.
    const pushed = docker.publishImage(IMAGE);
    await docker.pullImage(IMAGE);
    return { ...made, first, pushed };
  }

  it('is found by the relist and reported, the containers left running', async () => {
    const { engine, first } = await retagged(false);
    await until(() => engine.getTask(ARN)!.containers.every((c) => c.drift !== undefined));
    const t = engine.getTask(ARN)!;
    expect(t.containers[0]!.drift).toMatchObject({ code: 'ContainerDrifted', message: expect.stringContaining('re-tagged') });
    expect(ids(t)).toEqual(ids(first));
  });

  it('is recreated from the new image with --recreate-on-drift', async () => {
    const { engine, docker, first, pushed } = await retagged(true);
    const t = await waitForTask(engine, ARN, (x) => x.retiring === undefined && x.containers.every((c) => c.knownStatus === 'RUNNING' && c.imageId === pushed.id));
    expect(Object.values(ids(t)).some((id) => Object.values(ids(first)).includes(id))).toBe(false);
    expect(docker.containerCount()).toBe(3);
  });
});

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

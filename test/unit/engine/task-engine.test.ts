import { afterEach, describe, expect, it, vi } from 'vitest';
import { LABELS } from '../../../src/api/labels.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { DockerUnavailableError, ImagePullError, TaskNotFoundError } from '../../../src/errors.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { containerDef, IMAGE, taskDef } from '../../support/fixtures.js';
import { AGENT_ID, trackedEngines, running, stopped, waitForTask } from '../../support/engine-harness.js';

const engineFor = trackedEngines(afterEach);

const ARN = 'arn:test:task/web-1';
const twoContainers = taskDef(ARN, [
  containerDef('web', { portMappings: [{ containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1' }] }),
  containerDef('sidecar', { essential: false }),
]);

describe('TaskEngine', () => {
  it('drives a new task to RUNNING: pull, create with labels and saved name, start', async () => {
    const { engine, docker, events } = engineFor();
    await engine.start();
    const { created, task } = await engine.addTask({ kind: 'definition', task: twoContainers });
    expect(created).toBe(true);
    expect(task.knownStatus).toBe('NONE');
    const t = await waitForTask(engine, ARN, running);
    const web = t.containers[0]!;
    const info = await docker.inspectContainer(web.dockerId!);
    expect(info.name).toBe(web.dockerName);
    expect(info.labels).toMatchObject({
      [LABELS.taskArn]: ARN,
      [LABELS.containerName]: 'web',
      [LABELS.taskFamily]: 'web',
      [LABELS.taskVersion]: '1',
      [LABELS.agentId]: AGENT_ID,
    });
    expect(web.portBindings[0]).toMatchObject({ containerPort: 8080, hostIp: '127.0.0.1' });
    expect(events.filter((e) => e.type === 'container' && e.containerName === 'web').map((e) => e.status)).toEqual(['PULLED', 'CREATED', 'RUNNING']);
    expect(events.filter((e) => e.type === 'task').map((e) => e.status)).toEqual(['PULLED', 'CREATED', 'RUNNING']);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });

  it('posting the same task twice changes nothing', async () => {
    const { engine, docker } = engineFor();
    await engine.start();
    await engine.addTask({ kind: 'definition', task: twoContainers });
    await waitForTask(engine, ARN, running);
    const again = await engine.addTask({ kind: 'definition', task: twoContainers });
    expect(again.created).toBe(false);
    expect(docker.containerCount()).toBe(2);
    expect(docker.calls.filter((c) => c.op === 'create')).toHaveLength(2);
  });

  it('takes a different definition under a known ARN as its next generation, and rejects a status change for an unknown one', async () => {
    const { engine } = engineFor();
    await engine.start();
    await engine.addTask({ kind: 'definition', task: twoContainers });
    expect((await engine.addTask({ kind: 'definition', task: { ...twoContainers, version: '2' } })).task).toMatchObject({ version: '2', generation: 2 });
    await expect(engine.addTask({ kind: 'desired-status', arn: 'arn:none', desiredStatus: 'STOPPED' })).rejects.toBeInstanceOf(TaskNotFoundError);
  });

  it('stops a task on request, with its stop timeout, and reports TaskStopRequested', async () => {
    const { engine, docker, events } = engineFor();
    await engine.start();
    await engine.addTask({ kind: 'definition', task: twoContainers });
    await waitForTask(engine, ARN, running);
    await engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    const t = await waitForTask(engine, ARN, stopped);
    expect(t.containers.map((c) => [c.knownStatus, c.reason?.code])).toEqual([
      ['STOPPED', 'TaskStopRequested'],
      ['STOPPED', 'TaskStopRequested'],
    ]);
    expect(docker.calls.filter((c) => c.op === 'stop')).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ type: 'task', status: 'STOPPED', reason: 'TaskStopRequested' });
  });

  it('a lower desired status is ignored: a stopped task does not run again', async () => {
    const { engine } = engineFor();
    await engine.start();
    await engine.addTask({ kind: 'definition', task: { ...twoContainers, desiredStatus: 'STOPPED' } });
    await waitForTask(engine, ARN, stopped);
    const again = await engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'RUNNING' });
    expect(again.task.desiredStatus).toBe('STOPPED');
  });

  it('an essential container dying outside the agent stops the task with its exit code', async () => {
    const { engine, docker, events } = engineFor();
    await engine.start();
    await engine.addTask({ kind: 'definition', task: twoContainers });
    const t = await waitForTask(engine, ARN, running);
    docker.crash(t.containers[0]!.dockerId!, 42);
    const done = await waitForTask(engine, ARN, stopped);
    expect(done.containers[0]).toMatchObject({ knownStatus: 'STOPPED', exitCode: 42, reason: { code: 'ContainerExited' } });
    expect(done.containers[1]).toMatchObject({ knownStatus: 'STOPPED', reason: { code: 'EssentialContainerExited' } });
    const stop = events.find((e) => e.type === 'container' && e.containerName === 'web' && e.status === 'STOPPED');
    expect(stop).toMatchObject({ dockerId: t.containers[0]!.dockerId, exitCode: 42, portBindings: t.containers[0]!.portBindings });
  });

  it('a non-essential container dying leaves the task RUNNING', async () => {
    const { engine, docker } = engineFor();
    await engine.start();
    await engine.addTask({ kind: 'definition', task: twoContainers });
    const t = await waitForTask(engine, ARN, running);
    docker.crash(t.containers[1]!.dockerId!, 1);
    const after = await waitForTask(engine, ARN, (x) => x.containers[1]!.knownStatus === 'STOPPED');
    expect(after.knownStatus).toBe('RUNNING');
    expect(after.desiredStatus).toBe('RUNNING');
  });

  it('a pull that keeps failing stops the container with PullFailed after its retries', async () => {
    const { engine, docker } = engineFor();
    for (let i = 0; i < 3; i++) docker.failNext('pull', new ImagePullError(IMAGE, 'registry hiccup'));
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    const t = await waitForTask(engine, ARN, stopped);
    expect(t.containers[0]!.reason?.code).toBe('PullFailed');
    // The first attempt and the two retries of TEST_PULLS; the action is not retried on top.
    expect(docker.calls.filter((c) => c.op === 'pull')).toHaveLength(3);
  });

  it('an image the registry does not have stops the container with PullFailed after one attempt', async () => {
    const { engine, docker } = engineFor();
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN, [containerDef('app', { image: 'nowhere.test/missing:1' })]) });
    const t = await waitForTask(engine, ARN, stopped);
    expect(t.containers[0]!.reason).toMatchObject({ code: 'PullFailed', message: expect.stringMatching(/manifest unknown/) });
    expect(docker.calls.filter((c) => c.op === 'pull')).toHaveLength(1);
  });

  it('a pull that fails once is retried and the task still runs', async () => {
    const { engine, docker } = engineFor();
    docker.failNext('pull', new ImagePullError(IMAGE, 'registry hiccup'));
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    await waitForTask(engine, ARN, running);
    expect(docker.calls.filter((c) => c.op === 'pull')).toHaveLength(2);
  });

  it('Docker being unreachable never gives a container up', async () => {
    const { engine, docker } = engineFor();
    for (let i = 0; i < 6; i++) docker.failNext('create', new DockerUnavailableError('down'));
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    await waitForTask(engine, ARN, running);
    expect(docker.calls.filter((c) => c.op === 'create')).toHaveLength(7);
  });

  it('bounds the short Docker calls in flight across tasks by the concurrency', async () => {
    const { engine, docker } = engineFor({ concurrency: 2 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    for (let i = 0; i < 4; i++) docker.delayNext('create', gate);
    await engine.start();
    for (let i = 0; i < 4; i++) await engine.addTask({ kind: 'definition', task: taskDef(`arn:t/${i}`) });
    await vi.waitFor(() => expect(docker.calls.filter((c) => c.op === 'create')).toHaveLength(2));
    // Every pull is done and every task is waiting for a create slot: still only two in flight.
    await vi.waitFor(() => expect(docker.calls.filter((c) => c.op === 'pull')).toHaveLength(4));
    expect(docker.calls.filter((c) => c.op === 'create')).toHaveLength(2);
    release();
    await Promise.all([0, 1, 2, 3].map((i) => waitForTask(engine, `arn:t/${i}`, running)));
  });

  it('a pull or a stop that takes long holds no reconcile slot: other tasks keep moving, and a sibling is recorded at once', async () => {
    // The others' image is another one: pulls of one image are shared, and would wait together.
    const quickImage = 'registry.test:5000/berth/quick:latest';
    const { engine, docker } = engineFor({ concurrency: 1, docker: new FakeDocker({ images: [IMAGE, quickImage] }) });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    docker.delayNext('pull', gate);
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef('arn:slow', [containerDef('slow'), containerDef('quick', { image: quickImage })]) });
    await vi.waitFor(() => expect(docker.calls.filter((c) => c.op === 'pull')).toHaveLength(2));
    await engine.addTask({ kind: 'definition', task: taskDef('arn:other', [containerDef('app', { image: quickImage })]) });
    await waitForTask(engine, 'arn:other', running);
    // The sibling of the held pull was pulled, created and started meanwhile.
    await waitForTask(engine, 'arn:slow', (t) => t.containers[1]!.knownStatus === 'RUNNING' && t.containers[0]!.knownStatus === 'NONE');
    release();
    await waitForTask(engine, 'arn:slow', running);
  });

  it('cleans a stopped task up after the cleanup wait: containers removed, task forgotten', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { engine, docker, saver } = engineFor({ cleanupWaitMs: 60 * 60_000 });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: { ...twoContainers, desiredStatus: 'RUNNING' } });
    await waitForTask(engine, ARN, running);
    await engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    await waitForTask(engine, ARN, stopped);
    await vi.advanceTimersByTimeAsync(59 * 60_000);
    expect(engine.getTask(ARN)).toBeDefined();
    expect(docker.containerCount()).toBe(2);
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    await vi.waitFor(() => expect(engine.getTask(ARN)).toBeUndefined());
    expect(docker.containerCount()).toBe(0);
    expect(await saver.loadTasks()).toEqual([]);
  });

  it('does not acknowledge a task it could not save, and runs nothing for it', async () => {
    const saver = new MemorySaver();
    const { engine, docker } = engineFor({ saver });
    await engine.start();
    saver.failNextCommit(new Error('disk full'));
    await expect(engine.addTask({ kind: 'definition', task: taskDef(ARN) })).rejects.toThrow('disk full');
    expect(engine.getTask(ARN)).toBeUndefined();
    expect(docker.calls.filter((c) => c.op === 'pull')).toHaveLength(0);
  });

  it('reopens a broken event stream and still sees containers die', async () => {
    const { engine, docker } = engineFor();
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    const t = await waitForTask(engine, ARN, running);
    docker.breakEventStreams();
    await new Promise((r) => setTimeout(r, 30));
    docker.crash(t.containers[0]!.dockerId!, 7);
    const done = await waitForTask(engine, ARN, stopped);
    expect(done.containers[0]!.exitCode).toBe(7);
  });
});

describe('TaskEngine restart', () => {
  it('resumes from saved state: adopts running containers, makes no duplicates', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    const saver = new MemorySaver();
    const first = engineFor({ docker, saver });
    await first.engine.start();
    await first.engine.addTask({ kind: 'definition', task: twoContainers });
    const before = await waitForTask(first.engine, ARN, running);
    await first.engine.close();

    const second = engineFor({ docker, saver });
    await second.engine.start();
    const after = await waitForTask(second.engine, ARN, running);
    await new Promise((r) => setTimeout(r, 20));
    expect(after.containers.map((c) => c.dockerId)).toEqual(before.containers.map((c) => c.dockerId));
    expect(docker.containerCount()).toBe(2);
    expect(docker.calls.filter((c) => c.op === 'create')).toHaveLength(2);
    expect(second.events).toEqual([]);
  });

  it('marks a container removed while the agent was down STOPPED with ContainerMissing', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    const saver = new MemorySaver();
    const first = engineFor({ docker, saver });
    await first.engine.start();
    await first.engine.addTask({ kind: 'definition', task: twoContainers });
    const t = await waitForTask(first.engine, ARN, running);
    await first.engine.close();
    docker.removeExternally(t.containers[0]!.dockerId!);

    const second = engineFor({ docker, saver });
    await second.engine.start();
    const done = await waitForTask(second.engine, ARN, stopped);
    expect(done.containers[0]!.reason?.code).toBe('ContainerMissing');
    expect(done.containers[1]!.reason?.code).toBe('EssentialContainerExited');
  });

  it('adopts a container created just before a crash whose ID was never saved', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    const saver = new MemorySaver();
    const first = engineFor({ docker, saver });
    await first.engine.start();
    let release!: () => void;
    docker.delayNext('inspect', new Promise<void>((r) => (release = r)));
    await first.engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    await vi.waitFor(() => expect(docker.containerCount()).toBe(1));
    // The engine is "killed" here: the create happened, its outcome was never saved.
    expect((await saver.loadTasks())[0]!.containers[0]!.knownStatus).toBe('PULLED');

    const second = engineFor({ docker, saver });
    await second.engine.start();
    const t = await waitForTask(second.engine, ARN, running);
    expect(docker.containerCount()).toBe(1);
    expect(t.containers[0]!.dockerId).toBe((await docker.listContainers({}))[0]!.id);
    release();
  });
});

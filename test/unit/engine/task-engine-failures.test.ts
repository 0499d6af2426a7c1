import { afterEach, describe, expect, it, vi } from 'vitest';
import { DockerApiError, DockerTimeoutError, DockerUnavailableError, ImagePullError } from '../../../src/errors.js';
import type { DockerEvent } from '../../../src/docker/docker-client.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { containerDef, IMAGE, taskAt, taskDef } from '../../support/fixtures.js';
import { AGENT_ID, trackedEngines, running, stopped, waitForTask } from '../../support/engine-harness.js';
import { containerSpec } from '../../../src/engine/container-spec.js';
import { newTaskState } from '../../../src/engine/task-state.js';
import type { TaskState } from '../../../src/api/task.js';

const engineFor = trackedEngines(afterEach);

const ARN = 'arn:test:task/failures';
const gate = (): { wait: Promise<void>; open: () => void } => {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
};
const count = (docker: FakeDocker, op: string): number => docker.calls.filter((c) => c.op === op).length;

/** An engine running one new task, held inside its first call of `op` until `hold.open()`. */
async function heldAt(op: 'create' | 'start') {
  const made = engineFor();
  const hold = gate();
  made.docker.delayNext(op, hold.wait);
  await made.engine.start();
  await made.engine.addTask({ kind: 'definition', task: taskDef(ARN) });
  await vi.waitFor(() => expect(count(made.docker, op)).toBe(1));
  return { ...made, hold };
}

describe('failures around Docker calls', () => {
  it('a start that worked but whose inspect failed is not blamed on the start: the container is re-read, not given up', async () => {
    const { engine, docker, hold } = await heldAt('start');
    docker.failNext('inspect', new DockerApiError('inspect', 400, 'bad request'));
    hold.open();
    const t = await waitForTask(engine, ARN, running);
    expect(t.containers[0]!.reason).toBeUndefined();
    expect(count(docker, 'start')).toBe(1);
  });

  it('a create that worked but whose inspect failed still saves the new container ID: no orphan, no second container', async () => {
    const { engine, docker, hold } = await heldAt('create');
    docker.failNext('inspect', new DockerApiError('inspect', 400, 'bad request'));
    hold.open();
    await waitForTask(engine, ARN, running);
    expect(docker.containerCount()).toBe(1);
    expect(count(docker, 'create')).toBe(1);
  });

  it('a stop that arrives while a create is in flight still reaches the container the create made', async () => {
    const { engine, docker, hold } = await heldAt('create');
    // The stop arrives while the create is in flight; Docker then makes the container.
    await engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    hold.open();
    await waitForTask(engine, ARN, stopped);
    const t = engine.getTask(ARN)!;
    // The fake made the container; the engine must know it, so cleanup can remove it.
    expect(t.containers[0]!.dockerId).toBe((await docker.listContainers({}))[0]!.id);
  });

  it('a failing cleanup is retried with backoff, not in a tight loop', async () => {
    const { engine, docker } = engineFor({ cleanupWaitMs: 0 });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    await waitForTask(engine, ARN, running);
    for (let i = 0; i < 50; i++) docker.failNext('remove', new DockerUnavailableError('down'));
    await engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    await new Promise((r) => setTimeout(r, 60));
    // Backoff 5, 10, 20, 20… ms: a handful of tries in 60 ms, not dozens.
    expect(count(docker, 'remove')).toBeLessThan(10);
    expect(count(docker, 'remove')).toBeGreaterThan(1);
  });

  /** A task saved at PULLED, as a run that crashed between its pull and its create leaves it. */
  async function savedAtPulled(saver: MemorySaver): Promise<TaskState> {
    const fresh = newTaskState(taskDef(ARN), 1_000, AGENT_ID);
    const task = { ...fresh, knownStatus: 'PULLED' as const, containers: fresh.containers.map((c) => ({ ...c, knownStatus: 'PULLED' as const })) };
    await saver.commit({ put: [task] });
    return task;
  }

  it('cleanup removes a container known only by its name (its ID was never saved)', async () => {
    const saver = new MemorySaver();
    const docker = new FakeDocker({ images: [IMAGE] });
    const task = await savedAtPulled(saver);
    await docker.pullImage(IMAGE);
    // The crashed run's create reached Docker: our name and our labels, but no saved ID.
    await docker.createContainer(containerSpec(task, task.containers[0]!, AGENT_ID));
    const hold = gate();
    docker.delayNext('inspect', hold.wait);
    const { engine } = engineFor({ saver, docker, cleanupWaitMs: 0 });
    await engine.start();
    // The stop arrives before the restart's look-up by name has answered.
    await engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    hold.open();
    await vi.waitFor(() => expect(engine.getTask(ARN)).toBeUndefined());
    expect(docker.containerCount()).toBe(0);
  });

  /** Saved at PULLED with no ID, while Docker holds a container of this task made by `agentId` under `name`; then restarted. */
  async function restartWithContainerNamed(name: (task: TaskState) => string, agentId: string, until: (t: TaskState) => boolean) {
    const saver = new MemorySaver();
    const docker = new FakeDocker({ images: [IMAGE] });
    const task = await savedAtPulled(saver);
    await docker.pullImage(IMAGE);
    const id = await docker.createContainer({ ...containerSpec(task, task.containers[0]!, agentId), name: name(task) });
    await docker.startContainer(id);
    const { engine } = engineFor({ saver, docker, cleanupWaitMs: 0 });
    await engine.start();
    return { id, docker, engine, task: await waitForTask(engine, ARN, until) };
  }

  it('a container made before a crash and renamed since is found by its labels and adopted, not made again', async () => {
    const { id, docker, task } = await restartWithContainerNamed(() => 'renamed-by-someone', AGENT_ID, running);
    expect(task.containers[0]!.dockerId).toBe(id);
    // The one create is the crashed run's, made above.
    expect(count(docker, 'create')).toBe(1);
    expect(docker.containerCount()).toBe(1);
  });

  it("another agent's container holding this container's name, with this task's labels, is neither adopted nor removed", async () => {
    const { id, docker, engine, task } = await restartWithContainerNamed((t) => t.containers[0]!.dockerName, 'agent-other', stopped);
    expect(task.containers[0]).toMatchObject({ knownStatus: 'STOPPED', reason: { code: 'CreateFailed', message: expect.stringContaining('does not belong to this task') } });
    expect(task.containers[0]!.dockerId).toBeUndefined();
    // Cleanup (wait 0) forgets the task without touching the container it could not prove its own.
    await vi.waitFor(() => expect(engine.getTask(ARN)).toBeUndefined());
    expect(count(docker, 'stop') + count(docker, 'remove')).toBe(0);
    expect((await docker.inspectContainer(id)).state).toBe('running');
  });

  it('a container found by name that does not carry our labels is neither adopted nor removed', async () => {
    const saver = new MemorySaver();
    const docker = new FakeDocker({ images: [IMAGE] });
    const task = await savedAtPulled(saver);
    await docker.pullImage(IMAGE);
    await docker.createContainer({ name: task.containers[0]!.dockerName, image: IMAGE, env: {}, labels: { other: 'x' }, portMappings: [], stopTimeout: 1 });
    const { engine } = engineFor({ saver, docker, cleanupWaitMs: 0 });
    await engine.start();
    await vi.waitFor(() => expect(engine.getTask(ARN)).toBeUndefined());
    expect(docker.containerCount()).toBe(1);
    expect((await docker.listContainers({ other: 'x' }))).toHaveLength(1);
  });

  it('a container that dies after the restart re-read but before the event stream is open is still seen, without a relist', async () => {
    const saver = new MemorySaver();
    const docker = new FakeDocker({ images: [IMAGE] });
    const first = engineFor({ saver, docker });
    await first.engine.start();
    await first.engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    const t = await waitForTask(first.engine, ARN, running);
    await first.engine.close();

    const connect = gate();
    docker.delayNext('events', connect.wait);
    const inspectsBefore = count(docker, 'inspect');
    const second = engineFor({ saver, docker });
    await second.engine.start();
    await vi.waitFor(() => expect(count(docker, 'inspect')).toBe(inspectsBefore + 1));
    await second.engine.idle();
    expect(second.engine.getTask(ARN)!.knownStatus).toBe('RUNNING');
    docker.crash(t.containers[0]!.dockerId!, 2);
    connect.open();
    const s = await waitForTask(second.engine, ARN, stopped);
    expect(s.containers[0]).toMatchObject({ knownStatus: 'STOPPED', exitCode: 2 });
  });

  it('duplicated and out-of-order Docker events change nothing: only what Docker answers moves a status, and only forward', async () => {
    const { engine, docker, events } = engineFor();
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    const t = await waitForTask(engine, ARN, running);
    const id = t.containers[0]!.dockerId!;
    const history = (): DockerEvent[] => docker.events.filter((e) => e.dockerId === id);
    let reported = events.length;

    // While it runs: its old events twice, backwards, and a stray die that Docker's state denies.
    const inspects = count(docker, 'inspect');
    const strayDie: DockerEvent = { ...history().at(-1)!, action: 'die', exitCode: 1 };
    docker.redeliver([...history(), ...history().reverse(), strayDie, strayDie]);
    await vi.waitFor(() => expect(count(docker, 'inspect')).toBeGreaterThan(inspects));
    await engine.idle();
    expect(events).toHaveLength(reported);
    expect(engine.getTask(ARN)!.containers[0]!.knownStatus).toBe('RUNNING');

    // Once it is STOPPED, a late start (and everything else again) cannot bring it back.
    docker.crash(id, 2);
    await waitForTask(engine, ARN, stopped);
    reported = events.length;
    docker.redeliver([...history(), ...history().reverse()]);
    await new Promise((r) => setTimeout(r, 100));
    await engine.idle();
    expect(events).toHaveLength(reported);
    expect(engine.getTask(ARN)!.containers[0]).toMatchObject({ knownStatus: 'STOPPED', exitCode: 2 });
    const keys = events.map((e) => `${e.type} ${e.containerName ?? ''} ${e.status}`);
    expect(keys).toEqual([...new Set(keys)]);
  });

  it('starts that happened but whose answers timed out never give the container up: it is read back and found RUNNING', async () => {
    /** Docker does each start, but the answer is lost, more times than the retry budget allows. */
    class LostAnswers extends FakeDocker {
      lost = 5;
      override async startContainer(id: string): Promise<void> {
        await super.startContainer(id);
        if (this.lost-- > 0) throw new DockerTimeoutError('start', 1_000);
      }
    }
    const docker = new LostAnswers({ images: [IMAGE] });
    const { engine } = engineFor({ docker });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    const t = await waitForTask(engine, ARN, running);
    expect(t.containers[0]!.reason).toBeUndefined();
    // Read back after the first lost answer: no start repeated on a running container.
    expect(count(docker, 'start')).toBe(1);
  });

  it('cleanup stops a container that Docker still runs, though the record says STOPPED, before removing it', async () => {
    const saver = new MemorySaver();
    const docker = new FakeDocker({ images: [IMAGE] });
    await docker.pullImage(IMAGE);
    const id = await docker.createContainer({ name: 'behind-the-record', image: IMAGE, env: {}, labels: {}, portMappings: [], stopTimeout: 1 });
    await docker.startContainer(id);
    const task = taskAt({ app: ['STOPPED', { dockerId: id, exitCode: 0 }] }, { desired: 'STOPPED', stoppedAt: 1_000 });
    await saver.commit({ put: [task] });
    const { engine } = engineFor({ saver, docker, cleanupWaitMs: 0 });
    await engine.start();
    await vi.waitFor(() => expect(engine.getTask(task.arn)).toBeUndefined());
    expect(docker.containerCount()).toBe(0);
    expect(docker.calls.filter((c) => c.op === 'stop' || c.op === 'remove').map((c) => c.op)).toEqual(['stop', 'remove']);
  });

  it('the relist finds what no event told: a container removed without a trace becomes STOPPED/ContainerMissing', async () => {
    const { engine, docker } = engineFor({ relist: { intervalMs: 20, orphanGraceMs: 60_000 } });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    const t = await waitForTask(engine, ARN, running);
    const events = docker.events.length;
    docker.removeExternally(t.containers[0]!.dockerId!, { silently: true });
    expect(docker.events).toHaveLength(events);
    const s = await waitForTask(engine, ARN, stopped);
    expect(s.containers[0]).toMatchObject({ knownStatus: 'STOPPED', reason: expect.objectContaining({ code: 'ContainerMissing' }) });
  });

  it('an outage does not use up the retry budget of a bring-up action', async () => {
    const { engine, docker } = engineFor();
    for (let i = 0; i < 4; i++) docker.failNext('pull', new DockerUnavailableError('down'));
    docker.failNext('pull', new ImagePullError(IMAGE, 'hiccup'));
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    await waitForTask(engine, ARN, running, 10_000);
  });

  it('close() starts no new Docker work for calls still waiting for a slot', async () => {
    const { engine, docker } = engineFor({ concurrency: 1 });
    const hold = gate();
    docker.delayNext('create', hold.wait);
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef('arn:a') });
    await engine.addTask({ kind: 'definition', task: taskDef('arn:b') });
    await vi.waitFor(() => expect(count(docker, 'create')).toBe(1));
    await vi.waitFor(() => expect(count(docker, 'pull')).toBe(2));
    const closing = engine.close();
    hold.open();
    await closing;
    expect(count(docker, 'create')).toBe(1);
  });

  it('a throwing observer or progress listener does not stall or fail the task', async () => {
    const observer = {
      observeTransition: () => {
        throw new Error('metrics broke');
      },
      eventStreamReconnect: () => undefined,
    };
    const { engine } = engineFor({ observer });
    engine.onPullProgress(() => {
      throw new Error('listener broke');
    });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    await waitForTask(engine, ARN, running);
  });

  it('reports RUNNING before STOPPED for a container that exited as soon as it started', async () => {
    const { engine, events } = engineFor();
    await engine.start();
    await engine.addTask({
      kind: 'definition',
      task: taskDef(ARN, [containerDef('quick', { command: ['sh', '-c', 'exit 3'] })]),
    });
    await waitForTask(engine, ARN, stopped);
    expect(events.filter((e) => e.type === 'container').map((e) => e.status)).toEqual(['PULLED', 'CREATED', 'RUNNING', 'STOPPED']);
    expect(events.filter((e) => e.type === 'container').at(-1)).toMatchObject({ exitCode: 3 });
  });

  it('a timed-out stop is retried until the container is really stopped', async () => {
    const { engine, docker } = engineFor();
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    await waitForTask(engine, ARN, running);
    docker.failNext('stop', new DockerTimeoutError('stop', 100));
    await engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    const t = await waitForTask(engine, ARN, stopped);
    expect(t.containers[0]!.reason?.code).toBe('TaskStopRequested');
    expect(count(docker, 'stop')).toBe(2);
  });
});

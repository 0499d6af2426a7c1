import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ContainerDefinition, TaskDefinition, VolumeDefinition } from '../../../src/api/task.js';
import { dockerVolumeName } from '../../../src/api/labels.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { containerDef, IMAGE, taskDef } from '../../support/fixtures.js';
import { AGENT_ID, running, stopped, trackedEngines, waitForTask } from '../../support/engine-harness.js';

/* The engine on the fake Docker running what the ECS model adds: dependencies, health, volumes, ports. */

const engineFor = trackedEngines(afterEach);
const ARN = 'arn:test:task/defs';
const CHECK = { command: ['CMD-SHELL', 'true'], interval: 5, timeout: 2, retries: 3, startPeriod: 0 };
const dep = (containerName: string, condition: 'START' | 'COMPLETE' | 'SUCCESS' | 'HEALTHY') => ({ dependsOn: [{ containerName, condition }] });
const ops = (docker: FakeDocker, op: string): string[] => docker.calls.filter((c) => c.op === op).map((c) => c.arg);
const nameOf = (t: { containers: readonly { definition: { name: string }; dockerName: string }[] }, name: string): string =>
  t.containers.find((c) => c.definition.name === name)!.dockerName;

async function run(containers: ContainerDefinition[], overrides: Partial<TaskDefinition> = {}, engineOverrides = {}) {
  const made = engineFor(engineOverrides);
  await made.engine.start();
  const { task } = await made.engine.addTask({ kind: 'definition', task: taskDef(ARN, containers, overrides) });
  return { ...made, task };
}

describe('dependencies on the engine', () => {
  it('HEALTHY: the dependent is created only once Docker reports its dependency healthy, and the change is an event', async () => {
    const { engine, docker, task, events } = await run([containerDef('db', { healthCheck: CHECK }), containerDef('app', dep('db', 'HEALTHY'))]);
    await waitForTask(engine, ARN, (t) => t.containers[0]!.knownStatus === 'RUNNING');
    await engine.idle();
    expect(ops(docker, 'create')).toEqual([nameOf(task, 'db')]);
    docker.setHealth(nameOf(task, 'db'), 'healthy');
    const t = await waitForTask(engine, ARN, running);
    expect(t.containers[0]!.health).toBe('HEALTHY');
    expect(ops(docker, 'create')).toEqual([nameOf(task, 'db'), nameOf(task, 'app')]);
    expect(events).toContainEqual(expect.objectContaining({ type: 'container', containerName: 'db', status: 'RUNNING', health: 'HEALTHY' }));
  });

  it('SUCCESS that exits non-zero: the essential dependent stops uncreated with DependencyFailed, and so does the task', async () => {
    const { engine, docker, task } = await run([containerDef('init', { essential: false }), containerDef('app', dep('init', 'SUCCESS'))]);
    await waitForTask(engine, ARN, (t) => t.containers[0]!.knownStatus === 'RUNNING');
    docker.crash(task.containers[0]!.dockerName, 3);
    const t = await waitForTask(engine, ARN, stopped);
    expect(t.containers[1]).toMatchObject({ knownStatus: 'STOPPED', reason: { code: 'DependencyFailed' } });
    expect(t.containers[1]!.reason!.message).toContain('init');
    expect(t.containers[1]!.reason!.message).toContain('exited with code 3');
    expect(t.containers[1]!.dockerId).toBeUndefined();
    expect(ops(docker, 'create')).toEqual([nameOf(task, 'init')]);
  });

  it("a dependency's startTimeout passing stops the dependent with DependencyTimeout", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { engine } = await run([containerDef('slow', { essential: false, startTimeout: 5 }), containerDef('app', dep('slow', 'SUCCESS'))]);
    await waitForTask(engine, ARN, (t) => t.containers[0]!.knownStatus === 'RUNNING');
    await vi.advanceTimersByTimeAsync(6_000);
    const t = await waitForTask(engine, ARN, (x) => x.containers[1]!.knownStatus === 'STOPPED');
    expect(t.containers[1]!.reason).toEqual({
      code: 'DependencyTimeout',
      message: 'container app gave up on slow: it did not reach SUCCESS within its startTimeout of 5 s',
    });
  });

  it('shutdown stops dependents first, each with its own stopTimeout', async () => {
    const { engine, docker, task } = await run([
      containerDef('db', { stopTimeout: 45 }),
      containerDef('api', { ...dep('db', 'START'), stopTimeout: 7 }),
      containerDef('web', { ...dep('api', 'START'), stopTimeout: 3 }),
    ]);
    await waitForTask(engine, ARN, running);
    const stops: string[] = [];
    const stop = docker.stopContainer.bind(docker);
    docker.stopContainer = async (id, timeout) => {
      stops.push(`${task.containers.find((c) => c.dockerName === docker.specOf(id).name)!.definition.name} ${timeout}s`);
      return stop(id, timeout);
    };
    await engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    await waitForTask(engine, ARN, stopped);
    expect(stops).toEqual(['web 3s', 'api 7s', 'db 45s']);
  });

  it('a stop request overtakes a pull in flight: the pull is aborted and the container stops uncreated', async () => {
    const made = engineFor();
    made.docker.delayNext('pull', new Promise(() => undefined));
    await made.engine.start();
    await made.engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    await vi.waitFor(() => expect(ops(made.docker, 'pull')).toHaveLength(1));
    await made.engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    const t = await waitForTask(made.engine, ARN, stopped);
    expect(t.containers[0]).toMatchObject({ knownStatus: 'STOPPED', reason: { code: 'TaskStoppedBeforeStart' } });
    expect(ops(made.docker, 'create')).toEqual([]);
  });

  it('closing the agent does not wait out a long stop: Docker finishes it, and the next start re-reads the container', async () => {
    const first = engineFor();
    await first.engine.start();
    await first.engine.addTask({ kind: 'definition', task: taskDef(ARN, [containerDef('app', { stopTimeout: 3600 })]) });
    await waitForTask(first.engine, ARN, running);
    first.docker.delayNext('stop', new Promise(() => undefined));
    await first.engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    await vi.waitFor(() => expect(ops(first.docker, 'stop')).toHaveLength(1));
    await first.engine.close();
    const second = engineFor({ saver: first.saver, docker: first.docker });
    await second.engine.start();
    await vi.waitFor(() => expect(ops(first.docker, 'stop')).toHaveLength(2));
  });

  it('closing the agent during a pull does not stop the container: the next start pulls again', async () => {
    const first = engineFor();
    first.docker.delayNext('pull', new Promise(() => undefined));
    await first.engine.start();
    await first.engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    await vi.waitFor(() => expect(ops(first.docker, 'pull')).toHaveLength(1));
    await first.engine.close();
    const [saved] = await first.saver.loadTasks();
    expect(saved!.containers[0]).toMatchObject({ knownStatus: 'NONE', desiredStatus: 'RUNNING' });
    const second = engineFor({ saver: first.saver, docker: first.docker });
    await second.engine.start();
    await waitForTask(second.engine, ARN, running);
  });
});

describe('volumes on the engine', () => {
  const scratch: VolumeDefinition = { name: 'scratch', kind: 'task', autoprovision: false, driver: 'local', driverOpts: {}, labels: {} };
  const mount = (sourceVolume: string) => ({ mountPoints: [{ sourceVolume, containerPath: '/data', readOnly: false }] });

  it('a task volume is made before its containers, mounted by both, and removed with the task', async () => {
    const { engine, docker } = await run([containerDef('a', mount('scratch')), containerDef('b', mount('scratch'))], { volumes: [scratch] }, { cleanupWaitMs: 0 });
    const t = await waitForTask(engine, ARN, running);
    const volume = dockerVolumeName(ARN, scratch, AGENT_ID);
    expect(docker.hasVolume(volume)).toBe(true);
    expect(ops(docker, 'volume-create')).toHaveLength(1);
    expect(docker.specOf(t.containers[0]!.dockerId!).mounts).toEqual([{ type: 'volume', source: volume, target: '/data', readOnly: false }]);
    await engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    await vi.waitFor(() => expect(engine.getTask(ARN)).toBeUndefined());
    expect(docker.hasVolume(volume)).toBe(false);
  });

  it('a shared volume missing without autoprovision stops its container uncreated with VolumeMissing', async () => {
    const shared: VolumeDefinition = { ...scratch, name: 'cache', kind: 'shared', autoprovision: false };
    const { engine, docker } = await run([containerDef('a', mount('cache'))], { volumes: [shared] });
    const t = await waitForTask(engine, ARN, stopped);
    expect(t.containers[0]!.reason?.code).toBe('VolumeMissing');
    expect(t.containers[0]!.reason?.message).toContain('cache');
    expect(ops(docker, 'create')).toEqual([]);
  });
});

describe('shared volumes', () => {
  it('a shared volume with autoprovision is made under its own name and kept when the task is cleaned up', async () => {
    const shared: VolumeDefinition = { name: 'cache', kind: 'shared', autoprovision: true, driver: 'local', driverOpts: {}, labels: {} };
    const { engine, docker } = await run(
      [containerDef('a', { mountPoints: [{ sourceVolume: 'cache', containerPath: '/c', readOnly: true }] })],
      { volumes: [shared] },
      { cleanupWaitMs: 0 },
    );
    await waitForTask(engine, ARN, running);
    expect(docker.hasVolume('cache')).toBe(true);
    await engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    await vi.waitFor(() => expect(engine.getTask(ARN)).toBeUndefined());
    expect(docker.hasVolume('cache')).toBe(true);
  });
});

describe('ports on the engine', () => {
  const ports = { portMappings: [{ containerPort: 80, hostPort: 18080, protocol: 'tcp' as const, hostIp: '127.0.0.1' }] };

  it('a static host port held by a container outside berth stops the container with PortConflict naming the port', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    await docker.pullImage(IMAGE);
    const theirs = await docker.createContainer({ name: 'theirs', image: IMAGE, env: {}, labels: {}, portMappings: [{ containerPort: 80, hostPort: 18080, protocol: 'tcp', hostIp: '127.0.0.1' }], stopTimeout: 1 });
    await docker.startContainer(theirs);
    const { engine } = await run([containerDef('web', ports)], {}, { docker });
    const t = await waitForTask(engine, ARN, stopped);
    expect(t.containers[0]!.reason?.code).toBe('PortConflict');
    expect(t.containers[0]!.reason?.message).toContain('18080');
    expect(ops(docker, 'start').length).toBe(2);
  });

  it('a static host port another task holds: the second task waits for it (admission), and starts once the first stops', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    const { engine } = await run([containerDef('web', ports)], {}, { docker });
    await waitForTask(engine, ARN, running);
    const second = await engine.addTask({ kind: 'definition', task: taskDef('arn:test:task/second', [containerDef('web', ports)]) });
    expect(second.task.waiting?.message).toBe(`host port 127.0.0.1:18080/tcp is held by task ${ARN}`);
    await engine.idle();
    expect(ops(docker, 'create')).toHaveLength(1);
    await engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    const t = await waitForTask(engine, 'arn:test:task/second', running);
    expect(t.waiting).toBeUndefined();
    expect(ops(docker, 'start')).toHaveLength(2);
  });
});

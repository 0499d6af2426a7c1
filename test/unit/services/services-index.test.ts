import { afterEach, describe, expect, it } from 'vitest';
import type { TaskState } from '../../../src/api/task.js';
import type { ServiceRecord } from '../../../src/services/services-index.js';
import { ServicesIndex } from '../../../src/services/services-index.js';
import { containerDef, taskAt, taskDef } from '../../support/fixtures.js';
import { running, trackedEngines, waitForTask } from '../../support/engine-harness.js';

const engineFor = trackedEngines(afterEach);

/** `taskAt`'s task under another arn. */
function task(arn: string, statuses: Parameters<typeof taskAt>[0]): TaskState {
  const t = taskAt(statuses);
  return { ...t, arn };
}

function withNetworks(t: TaskState, networks: Record<string, { ipAddress?: string }>): TaskState {
  return { ...t, containers: t.containers.map((c) => ({ ...c, networks })) };
}

function recorder(index: ServicesIndex): { records: ServiceRecord[]; current: readonly string[] } {
  const records: ServiceRecord[] = [];
  const { current } = index.watch((r) => records.push(r));
  return { records, current: current.map((s) => s.id) };
}

describe('ServicesIndex', () => {
  it('lists the loaded services by id, and tells nothing for a value that changes none of them', () => {
    const index = new ServicesIndex();
    const a = task('arn:a', { zed: 'RUNNING', alpha: 'RUNNING' });
    index.load([a, task('arn:b', { other: 'CREATED' })]);
    expect(index.list().map((s) => s.containerName)).toEqual(['alpha', 'zed'].sort((x, y) => (fakeIdOf(x) < fakeIdOf(y) ? -1 : 1)));
    const watched = recorder(index);
    index.update('arn:a', { ...a, updatedAt: a.updatedAt + 1 });
    expect(watched.records).toEqual([]);
  });

  it('a changed service is removed and added again; a stopped one and a task that leaves are removed', () => {
    const index = new ServicesIndex();
    const a = task('arn:a', { web: 'RUNNING', side: 'RUNNING' });
    index.load([a]);
    const watched = recorder(index);
    expect(watched.current).toHaveLength(2);
    const moved = withNetworks(a, { bridge: { ipAddress: '172.17.0.9' } });
    index.update('arn:a', moved);
    expect(watched.records.map((r) => [r.type, r.service.containerName, r.service.hosts])).toEqual([
      ['removed', 'web', {}],
      ['removed', 'side', {}],
      ['added', 'web', { bridge: '172.17.0.9' }],
      ['added', 'side', { bridge: '172.17.0.9' }],
    ]);
    watched.records.length = 0;
    const sideStopped = { ...moved, containers: moved.containers.map((c) => (c.definition.name === 'side' ? { ...c, knownStatus: 'STOPPED' as const } : c)) };
    index.update('arn:a', sideStopped);
    expect(watched.records.map((r) => [r.type, r.service.containerName])).toEqual([['removed', 'side']]);
    watched.records.length = 0;
    expect(JSON.parse(index.listJson().toString())).toEqual({ services: [...index.list()] });
    index.update('arn:a', undefined);
    expect(watched.records.map((r) => [r.type, r.service.containerName])).toEqual([['removed', 'web']]);
    expect(index.list()).toEqual([]);
    expect(JSON.parse(index.listJson().toString())).toEqual({ services: [] });
  });

  it('stops telling a watcher once it unsubscribes, and a failing watcher does not stop the others', () => {
    const index = new ServicesIndex();
    const first = index.watch(() => {
      throw new Error('gone');
    });
    const seen: ServiceRecord[] = [];
    const second = index.watch((r) => seen.push(r));
    index.update('arn:a', task('arn:a', { web: 'RUNNING' }));
    expect(seen.map((r) => r.type)).toEqual(['added']);
    first.unsubscribe();
    second.unsubscribe();
    index.update('arn:a', undefined);
    expect(seen).toHaveLength(1);
  });
});

describe('the engine\'s services on the fake Docker', () => {
  const ARN = 'arn:test:task/svc-1';

  async function runningEngine() {
    const made = engineFor();
    await made.engine.start();
    await made.engine.addTask({
      kind: 'definition',
      task: taskDef(ARN, [containerDef('web', { portMappings: [{ containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1' }], labels: { team: 'a' } })]),
    });
    const t = await waitForTask(made.engine, ARN, running);
    await made.engine.idle();
    return { ...made, dockerId: t.containers[0]!.dockerId! };
  }

  it('a network connect and disconnect of our container re-reads it: its hosts change as removed + added', async () => {
    const { engine, docker, dockerId } = await runningEngine();
    const [before] = engine.services.list();
    expect(before).toMatchObject({ id: dockerId, ports: [8080], tags: ['team:a'], hosts: { bridge: expect.any(String) } });
    const records: ServiceRecord[] = [];
    engine.services.watch((r) => records.push(r));

    docker.connectNetwork(dockerId, 'backend', '10.9.0.2');
    await until(() => records.length >= 2);
    expect(records.map((r) => [r.type, r.service.hosts])).toEqual([
      ['removed', before!.hosts],
      ['added', { ...before!.hosts, backend: '10.9.0.2' }],
    ]);

    records.length = 0;
    docker.disconnectNetwork(dockerId, 'bridge');
    await until(() => records.length >= 2);
    expect(records.map((r) => [r.type, r.service.hosts])).toEqual([
      ['removed', { ...before!.hosts, backend: '10.9.0.2' }],
      ['added', { backend: '10.9.0.2' }],
    ]);
    expect(engine.services.list()).toEqual([records[1]!.service]);
  });

  it('ignores the network events of containers that are not ours', async () => {
    const { engine, docker } = await runningEngine();
    const stranger = await docker.createContainer({ name: 'stranger', image: 'registry.test:5000/berth/busybox:latest', labels: {}, env: {}, portMappings: [], stopTimeout: 1 });
    const inspects = (): number => docker.calls.filter((c) => c.op === 'inspect').length;
    const before = inspects();
    docker.connectNetwork(stranger, 'backend');
    docker.connectNetwork(engine.services.list()[0]!.id, 'backend');
    await until(() => 'backend' in (engine.getTask(ARN)!.containers[0]!.networks ?? {}));
    // Our container's event came after the stranger's: had that been acted on, its inspect came first.
    expect(inspects()).toBe(before + 1);
    expect(docker.calls.filter((c) => c.op === 'inspect' && c.arg === stranger)).toEqual([]);
  });

  it('the network connect Docker sends while it starts a container costs no extra inspect: the start reads it anyway', async () => {
    const { engine, docker, dockerId } = await runningEngine();
    const inspected = (id: string): number => docker.calls.filter((c) => c.op === 'inspect' && c.arg === id).length;
    const plain = inspected(dockerId);
    const other = 'arn:test:task/other';
    let release!: () => void;
    docker.delayNext('start', new Promise<void>((resolve) => (release = resolve)));
    await engine.addTask({ kind: 'definition', task: taskDef(other, [containerDef('web')]) });
    await until(() => engine.getTask(other)?.containers[0]?.dockerId !== undefined && docker.calls.some((c) => c.op === 'start' && c.arg === engine.getTask(other)!.containers[0]!.dockerId));
    const otherId = engine.getTask(other)!.containers[0]!.dockerId!;
    docker.connectNetwork(otherId, 'bridge');
    release();
    await waitForTask(engine, other, running);
    await engine.idle();
    expect(inspected(otherId)).toBe(plain);
  });

  it('a stopped container is removed from the list and the watch', async () => {
    const { engine, docker, dockerId } = await runningEngine();
    const records: ServiceRecord[] = [];
    engine.services.watch((r) => records.push(r));
    docker.crash(dockerId, 1);
    await waitForTask(engine, ARN, (t) => t.knownStatus === 'STOPPED');
    expect(records.map((r) => [r.type, r.service.id])).toEqual([['removed', dockerId]]);
    expect(engine.services.list()).toEqual([]);
  });

  it('a restarted engine on the same state and Docker has the same services at once, and its re-reads report nothing', async () => {
    const first = await runningEngine();
    const before = first.engine.services.list();
    await first.engine.close();
    const callsBefore = first.docker.calls.length;
    const second = engineFor({ docker: first.docker, saver: first.saver });
    await second.engine.start();
    const records: ServiceRecord[] = [];
    const { current } = second.engine.services.watch((r) => records.push(r));
    expect(current).toEqual(before);
    expect(before[0]).toMatchObject({ pid: expect.any(Number), hosts: { bridge: expect.any(String) } });
    await second.engine.idle();
    // The resume re-read every container (otherwise this proves nothing), and found nothing new.
    expect(second.docker.calls.slice(callsBefore).filter((c) => c.op === 'inspect' && c.arg === first.dockerId).length).toBeGreaterThan(0);
    expect(records).toEqual([]);
  });
});

/** Resolves once `condition` holds, checking every few milliseconds; fails after `ms`. */
async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function fakeIdOf(name: string): string {
  return Buffer.from(name).toString('hex').padEnd(64, '0').slice(0, 64);
}

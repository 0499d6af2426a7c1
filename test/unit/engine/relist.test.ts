import { afterEach, describe, expect, it, vi } from 'vitest';
import { LABELS } from '../../../src/api/labels.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { containerSpec } from '../../../src/engine/container-spec.js';
import { examineRelist } from '../../../src/engine/relist.js';
import { Relister } from '../../../src/engine/relister.js';
import { newTaskState } from '../../../src/engine/task-state.js';
import { silentLogger } from '../../../src/log/logger.js';
import { systemClock } from '../../../src/util/clock.js';
import { AGENT_ID, fakeId, IMAGE, taskAt, taskDef } from '../../support/fixtures.js';

const AGENT = 'agent-r';
const summary = (id: string, state: 'running' | 'exited' | 'created', labels: Record<string, string> = {}) => ({ id, name: `n-${id.slice(0, 4)}`, state, labels: { [LABELS.agentId]: AGENT, ...labels } });

describe('examineRelist', () => {
  const task = taskAt({ app: 'RUNNING', side: 'CREATED', done: ['STOPPED', { dockerId: fakeId('done') }] });

  it('re-reads a recorded container that is missing from the list or listed in a contradicting state', () => {
    const found = examineRelist({ tasks: [task], listed: [summary(fakeId('app'), 'exited'), summary(fakeId('done'), 'exited')], previouslyUnknown: new Map(), unloaded: new Set(), agentId: AGENT, now: 5 });
    expect(found.refresh).toEqual([
      { arn: task.arn, container: 'app' },
      { arn: task.arn, container: 'side' },
    ]);
    expect(found.unknown).toEqual([]);
  });

  it('agrees with a list that matches the records', () => {
    const listed = [summary(fakeId('app'), 'running'), summary(fakeId('side'), 'created'), summary(fakeId('done'), 'exited')];
    expect(examineRelist({ tasks: [task], listed, previouslyUnknown: new Map(), unloaded: new Set(), agentId: AGENT, now: 5 })).toEqual({ refresh: [], unknown: [], held: [] });
  });

  it('reports containers no task accounts for, keeping when each was first seen', () => {
    const stray = summary('b'.repeat(64), 'running');
    expect(examineRelist({ tasks: [task], listed: [stray], previouslyUnknown: new Map(), unloaded: new Set(), agentId: AGENT, now: 5 }).unknown).toEqual([{ id: stray.id, name: stray.name, firstSeen: 5 }]);
    expect(examineRelist({ tasks: [task], listed: [stray], previouslyUnknown: new Map([[stray.id, 2]]), unloaded: new Set(), agentId: AGENT, now: 5 }).unknown[0]!.firstSeen).toBe(2);
  });

  it('holds, rather than reports as unknown, a container of a task whose rows could not be loaded', () => {
    const ofQuarantined = summary('d'.repeat(64), 'running', { [LABELS.taskArn]: 'arn:quarantined', [LABELS.containerName]: 'app' });
    const stray = summary('e'.repeat(64), 'running', { [LABELS.taskArn]: 'arn:never-known' });
    const found = examineRelist({ tasks: [], listed: [ofQuarantined, stray], previouslyUnknown: new Map(), unloaded: new Set(['arn:quarantined']), agentId: AGENT, now: 5 });
    expect(found.held).toEqual([{ id: ofQuarantined.id, name: ofQuarantined.name, arn: 'arn:quarantined' }]);
    expect(found.unknown.map((u) => u.id)).toEqual([stray.id]);
  });

  it('accounts a container by its labels when its ID was never saved', () => {
    const pulled = taskAt({ app: 'PULLED' });
    const orphan = summary('c'.repeat(64), 'created', { [LABELS.taskArn]: pulled.arn, [LABELS.containerName]: 'app' });
    expect(examineRelist({ tasks: [pulled], listed: [orphan], previouslyUnknown: new Map(), unloaded: new Set(), agentId: AGENT, now: 5 }).unknown).toEqual([]);
  });
});

describe('Relister', () => {
  afterEach(() => vi.useRealTimers());

  it('removes a container of this agent that no task accounts for, only after the grace period, and never another agent’s', async () => {
    vi.useFakeTimers();
    const docker = new FakeDocker({ images: [IMAGE] });
    await docker.pullImage(IMAGE);
    const stray = newTaskState(taskDef('arn:stray'), 1, AGENT_ID);
    const mine = await docker.createContainer(containerSpec(stray, stray.containers[0]!, AGENT));
    await docker.startContainer(mine);
    const theirs = await docker.createContainer({ ...containerSpec(stray, stray.containers[0]!, 'other-agent'), name: 'theirs' });
    const refresh = vi.fn();
    const r = new Relister(docker, AGENT, { tasks: () => [], unloaded: () => new Set(), refresh, drifted: vi.fn() }, {
      clock: systemClock,
      policy: { intervalMs: 1_000, orphanGraceMs: 5_000 },
      log: silentLogger(),
    });
    r.start();
    await vi.advanceTimersByTimeAsync(4_500);
    expect(docker.containerCount()).toBe(2);
    await vi.advanceTimersByTimeAsync(2_000);
    await r.stop();
    expect((await docker.listContainers({})).map((c) => c.id)).toEqual([theirs]);
    expect(refresh).not.toHaveBeenCalled();
  });

  it('asks for a missing container to be re-read, and skips a pass while Docker is down', async () => {
    vi.useFakeTimers();
    const docker = new FakeDocker({ images: [IMAGE] });
    const task = taskAt({ app: 'RUNNING' });
    const refresh = vi.fn();
    const r = new Relister(docker, AGENT, { tasks: () => [task], unloaded: () => new Set(), refresh, drifted: vi.fn() }, {
      clock: systemClock,
      policy: { intervalMs: 1_000, orphanGraceMs: 5_000 },
      log: silentLogger(),
    });
    docker.setUnavailable(true);
    r.start();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(refresh).not.toHaveBeenCalled();
    docker.setUnavailable(false);
    await vi.advanceTimersByTimeAsync(1_000);
    await r.stop();
    expect(refresh).toHaveBeenCalledWith(task.arn, 'app');
  });
});

import { describe, expect, it } from 'vitest';
import type { ContainerInfo } from '../../../src/docker/docker-client.js';
import { DockerTimeoutError, ImagePullError } from '../../../src/errors.js';
import { stateChanges } from '../../../src/engine/state-changes.js';
import { raiseDesired } from '../../../src/engine/task-state.js';
import { applyGiveUp, applyOutcome } from '../../../src/engine/transitions.js';
import type { TaskState } from '../../../src/api/task.js';
import { fakeId, taskAt } from '../../support/fixtures.js';

const NOW = 50_000;

function info(name: string, state: ContainerInfo['state'], extra: Partial<ContainerInfo> = {}): ContainerInfo {
  return { id: fakeId(name), name: `berth-${name}`, image: 'img', state, oomKilled: false, labels: {}, portBindings: [], ...extra };
}

function kept(t: TaskState | 'forget'): TaskState {
  if (t === 'forget') throw new Error('task was forgotten');
  return t;
}
const c = (t: TaskState | 'forget', name: string) => kept(t).containers.find((x) => x.definition.name === name)!;

describe('applyOutcome', () => {
  it('records a created container with its ID', () => {
    const next = applyOutcome(taskAt({ app: 'PULLED' }), { kind: 'observed', container: 'app', info: info('app', 'created') }, NOW);
    expect(c(next, 'app')).toMatchObject({ knownStatus: 'CREATED', dockerId: fakeId('app') });
  });

  it('records port bindings and the start time of a running container; the task becomes RUNNING', () => {
    const ports = [{ containerPort: 80, hostPort: 32768, protocol: 'tcp' as const, hostIp: '127.0.0.1' }];
    const next = applyOutcome(taskAt({ app: 'CREATED' }), { kind: 'observed', container: 'app', info: info('app', 'running', { portBindings: ports, startedAt: 42 }) }, NOW);
    expect(c(next, 'app')).toMatchObject({ knownStatus: 'RUNNING', portBindings: ports, startedAt: 42 });
    expect(kept(next).knownStatus).toBe('RUNNING');
  });

  it('records where a running container lives (networks, PID, hostname); once it stops the PID goes, the rest is kept', () => {
    const where = { networks: { bridge: { ipAddress: '172.17.0.5' } }, pid: 4242, hostname: 'web-1' };
    const running = applyOutcome(taskAt({ app: 'CREATED' }), { kind: 'observed', container: 'app', info: info('app', 'running', where) }, NOW);
    expect(c(running, 'app')).toMatchObject(where);
    const stopped = applyOutcome(kept(running), { kind: 'observed', container: 'app', info: info('app', 'exited', { exitCode: 0, networks: { bridge: {} } }) }, NOW);
    expect(c(stopped, 'app')).toMatchObject({ knownStatus: 'STOPPED', networks: where.networks, hostname: 'web-1' });
    expect(c(stopped, 'app').pid).toBeUndefined();
  });

  it('a network change of a running container is recorded; the same networks again change nothing', () => {
    const first = applyOutcome(taskAt({ app: 'CREATED' }), { kind: 'observed', container: 'app', info: info('app', 'running', { networks: { bridge: { ipAddress: '172.17.0.5' } } }) }, NOW);
    const moved = applyOutcome(kept(first), { kind: 'observed', container: 'app', info: info('app', 'running', { networks: { bridge: { ipAddress: '172.17.0.5' }, backend: { ipAddress: '10.1.0.2' } } }) }, NOW);
    expect(c(moved, 'app').networks).toEqual({ bridge: { ipAddress: '172.17.0.5' }, backend: { ipAddress: '10.1.0.2' } });
    const again = applyOutcome(kept(moved), { kind: 'observed', container: 'app', info: info('app', 'running', { networks: { bridge: { ipAddress: '172.17.0.5' }, backend: { ipAddress: '10.1.0.2' } } }) }, NOW);
    expect(again).toBe(moved);
  });

  it('never moves a status backwards: a late "running" after a stop changes nothing', () => {
    const stopped = taskAt({ app: ['STOPPED', { exitCode: 0 }] });
    const next = applyOutcome(stopped, { kind: 'observed', container: 'app', info: info('app', 'running') }, NOW);
    expect(next).toBe(stopped);
  });

  it('an observation that adds nothing returns the very same task (no write, no event)', () => {
    const running = taskAt({ app: 'RUNNING' });
    const next = applyOutcome(running, { kind: 'observed', container: 'app', info: info('app', 'running') }, NOW);
    expect(next).toBe(running);
  });

  it('an essential container that exits stops the task with EssentialContainerExited for the others', () => {
    const t = taskAt({ app: 'RUNNING', side: 'RUNNING' });
    const next = applyOutcome(t, { kind: 'observed', container: 'app', info: info('app', 'exited', { exitCode: 3, finishedAt: 49_000 }) }, NOW);
    expect(c(next, 'app')).toMatchObject({ knownStatus: 'STOPPED', exitCode: 3, finishedAt: 49_000, reason: { code: 'ContainerExited' } });
    expect(kept(next).desiredStatus).toBe('STOPPED');
    expect(c(next, 'side').desiredStatus).toBe('STOPPED');
    const after = applyOutcome(kept(next), { kind: 'observed', container: 'side', info: info('side', 'exited', { exitCode: 143 }) }, NOW);
    expect(c(after, 'side').reason).toEqual({ code: 'EssentialContainerExited', message: 'essential container app stopped with exit code 3' });
  });

  it('an OOM kill is reported as OutOfMemory', () => {
    const next = applyOutcome(taskAt({ app: 'RUNNING' }), { kind: 'observed', container: 'app', info: info('app', 'exited', { exitCode: 137, oomKilled: true }) }, NOW);
    expect(c(next, 'app').reason?.code).toBe('OutOfMemory');
  });

  it('a stop the control plane asked for is reported as TaskStopRequested', () => {
    const t = raiseDesired(taskAt({ app: 'RUNNING' }), 'STOPPED', NOW);
    const next = applyOutcome(t, { kind: 'observed', container: 'app', info: info('app', 'exited', { exitCode: 143 }) }, NOW);
    expect(c(next, 'app')).toMatchObject({ knownStatus: 'STOPPED', exitCode: 143, reason: { code: 'TaskStopRequested' } });
  });

  it('a created or running container that is gone becomes STOPPED with ContainerMissing', () => {
    const next = applyOutcome(taskAt({ app: 'RUNNING' }), { kind: 'gone', container: 'app' }, NOW);
    expect(c(next, 'app')).toMatchObject({ knownStatus: 'STOPPED', reason: { code: 'ContainerMissing' }, finishedAt: NOW });
  });

  it('a pulled container not found by name is simply not there yet: nothing changes', () => {
    const t = taskAt({ app: 'PULLED' });
    expect(applyOutcome(t, { kind: 'gone', container: 'app' }, NOW)).toBe(t);
  });

  it('an orphan found by name after a crash is adopted at whatever state it reached', () => {
    const next = applyOutcome(taskAt({ app: 'PULLED' }), { kind: 'observed', container: 'app', info: info('app', 'running') }, NOW);
    expect(c(next, 'app')).toMatchObject({ knownStatus: 'RUNNING', dockerId: fakeId('app') });
  });

  it('cleanup forgets the task', () => {
    expect(applyOutcome(taskAt({ app: 'STOPPED' }), { kind: 'cleaned' }, NOW)).toBe('forget');
  });

  it('every container stopping on its own stops the task, even with no essential container', () => {
    const t = taskAt({ a: 'RUNNING' }, { nonEssential: ['a'] });
    const next = applyOutcome(t, { kind: 'observed', container: 'a', info: info('a', 'exited', { exitCode: 0 }) }, NOW);
    expect([kept(next).knownStatus, kept(next).desiredStatus, kept(next).stoppedAt]).toEqual(['STOPPED', 'STOPPED', NOW]);
  });
});

describe('applyGiveUp', () => {
  it.each([
    ['pull', new ImagePullError('img', 'not found'), 'PullFailed'],
    ['start', new Error('boom'), 'StartFailed'],
    ['create', new Error('boom'), 'CreateFailed'],
    ['create', new DockerTimeoutError('create', 100), 'DockerTimeout'],
  ] as const)('a failed %s stops the container with %s', (action, error, code) => {
    const next = applyGiveUp(taskAt({ app: 'NONE' }), { kind: 'failed', container: 'app', action, error }, NOW);
    expect(c(next, 'app')).toMatchObject({ knownStatus: 'STOPPED', reason: { code } });
    expect(next.knownStatus).toBe('STOPPED');
  });
});

describe('stateChanges', () => {
  it('reports each container that moved, then the task, with the full record on a stop', () => {
    const before = taskAt({ app: 'RUNNING' });
    const after = kept(applyOutcome(before, { kind: 'observed', container: 'app', info: info('app', 'exited', { exitCode: 3 }) }, NOW));
    expect(stateChanges(before, after, 'T')).toEqual([
      { type: 'container', taskArn: before.arn, containerName: 'app', dockerId: fakeId('app'), status: 'STOPPED', exitCode: 3, reason: 'ContainerExited', reasonMessage: 'container app exited with exit code 3', action: 'stop', service: 'web/app', at: 'T' },
      { type: 'task', taskArn: before.arn, status: 'STOPPED', reason: 'EssentialContainerExited', reasonMessage: 'essential container app stopped with exit code 3', at: 'T' },
    ]);
  });

  it('reports a health verdict that changed while the status did not, once, with the status it happened in', () => {
    const checked = (t: ReturnType<typeof taskAt>) => ({
      ...t,
      containers: t.containers.map((c) => ({ ...c, definition: { ...c.definition, healthCheck: { command: ['CMD-SHELL', 'true'], interval: 5, timeout: 2, retries: 3, startPeriod: 0 } } })),
    });
    const before = checked(taskAt({ app: ['RUNNING', { health: 'UNKNOWN' }] }));
    const after = kept(applyOutcome(before, { kind: 'observed', container: 'app', info: { ...info('app', 'running'), health: 'healthy' } }, NOW));
    expect(after.containers[0]!.health).toBe('HEALTHY');
    expect(stateChanges(before, after, 'T')).toEqual([
      { type: 'container', taskArn: before.arn, containerName: 'app', dockerId: fakeId('app'), status: 'RUNNING', health: 'HEALTHY', action: 'update', service: 'web/app', at: 'T' },
    ]);
    const again = applyOutcome(after, { kind: 'observed', container: 'app', info: { ...info('app', 'running'), health: 'healthy' } }, NOW);
    expect(again).toBe(after);
  });

  it('reports nothing when no status moved', () => {
    const t = taskAt({ app: 'RUNNING' });
    expect(stateChanges(t, raiseDesired(t, 'RUNNING', NOW), 'T')).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { ContainerState, RestartPolicy, TaskState } from '../../../src/api/task.js';
import type { ContainerInfo } from '../../../src/docker/docker-client.js';
import { plan, formatPlan } from '../../../src/engine/planner.js';
import { isAnsweredExit, restartDecision } from '../../../src/engine/restart-policy.js';
import { stateChanges } from '../../../src/engine/state-changes.js';
import { raiseDesired } from '../../../src/engine/task-state.js';
import { applyOutcome } from '../../../src/engine/transitions.js';
import { fakeId, planInput, shortFakeId, taskAt } from '../../support/fixtures.js';

const S = 1_000;
const STARTED = 1_000_000;
const POLICY: RestartPolicy = { ignoredExitCodes: [0, 143], restartAttemptPeriod: 300 };

/** A task whose container `app` (essential unless told) has `policy` (null: none) and is at `status`. */
function withPolicy(status: Parameters<typeof taskAt>[0][string], policy: RestartPolicy | null = POLICY, nonEssential: string[] = []): TaskState {
  const t = taskAt({ app: status, side: 'RUNNING' }, { nonEssential });
  return {
    ...t,
    containers: t.containers.map((c) =>
      c.definition.name === 'app' && policy ? { ...c, definition: { ...c.definition, restartPolicy: policy } } : c,
    ),
  };
}

function exited(exitCode: number, finishedAt: number, extra: Partial<ContainerInfo> = {}): ContainerInfo {
  return { id: fakeId('app'), name: 'berth-app', image: 'img', state: 'exited', exitCode, oomKilled: false, labels: {}, portBindings: [], startedAt: STARTED, finishedAt, ...extra };
}

function runningInfo(startedAt: number): ContainerInfo {
  const ports = [{ containerPort: 80, hostPort: 32999, protocol: 'tcp' as const, hostIp: '127.0.0.1' }];
  return { id: fakeId('app'), name: 'berth-app', image: 'img', state: 'running', oomKilled: false, labels: {}, portBindings: ports, startedAt };
}

const app = (t: TaskState | 'forget'): ContainerState => {
  if (t === 'forget') throw new Error('forgotten');
  return t.containers.find((c) => c.definition.name === 'app')!;
};
const kept = (t: TaskState | 'forget'): TaskState => {
  if (t === 'forget') throw new Error('forgotten');
  return t;
};
const observe = (t: TaskState, info: ContainerInfo, now: number): TaskState => kept(applyOutcome(t, { kind: 'observed', container: 'app', info }, now));

describe('restartDecision (ECS: restart unless ignored, once the container ran restartAttemptPeriod since it started or last restarted)', () => {
  const running = (extra: Partial<ContainerState> = {}): ContainerState => ({ ...app(withPolicy(['RUNNING', { startedAt: STARTED }])), ...extra });

  it.each<[string, Partial<ContainerState>, number | undefined, number, ReturnType<typeof restartDecision>]>([
    ['ran exactly the period', {}, 3, STARTED + 300 * S, { kind: 'restart' }],
    ['ran longer than the period', {}, 1, STARTED + 3_600 * S, { kind: 'restart' }],
    ['ran 1 ms less than the period', {}, 3, STARTED + 300 * S - 1, { kind: 'final', why: 'it ran 299 s, less than its restartAttemptPeriod of 300 s' }],
    ['ran 12 s', {}, 3, STARTED + 12 * S, { kind: 'final', why: 'it ran 12 s, less than its restartAttemptPeriod of 300 s' }],
    ['exited 0, an ignored code', {}, 0, STARTED + 3_600 * S, { kind: 'final', why: "exit code 0 is in its restartPolicy's ignoredExitCodes" }],
    ['exited 143, an ignored code', {}, 143, STARTED + 3_600 * S, { kind: 'final', why: "exit code 143 is in its restartPolicy's ignoredExitCodes" }],
    ['no exit code from Docker', {}, undefined, STARTED + 3_600 * S, { kind: 'final', why: 'Docker reported no exit code' }],
    ['last restarted a period ago', { restartCount: 1, lastRestartAt: STARTED + 400 * S }, 3, STARTED + 700 * S, { kind: 'restart' }],
    ['last restarted less than a period ago: at most once per period', { restartCount: 1, lastRestartAt: STARTED + 400 * S }, 3, STARTED + 699 * S, { kind: 'final', why: 'it ran 299 s since its last restart, less than its restartAttemptPeriod of 300 s' }],
    ['wanted STOPPED: a stop request is never undone', { desiredStatus: 'STOPPED' }, 3, STARTED + 3_600 * S, { kind: 'final' }],
  ])('%s', (_what, extra, exitCode, now, expected) => {
    expect(restartDecision(running(extra), { ...(exitCode === undefined ? {} : { exitCode }), startedAt: STARTED }, now)).toEqual(expected);
  });

  it('never restarts a container without a restartPolicy, and says nothing about it', () => {
    const c = app(withPolicy(['RUNNING', { startedAt: STARTED }], null));
    expect(restartDecision(c, { exitCode: 3, startedAt: STARTED }, STARTED + 3_600 * S)).toEqual({ kind: 'final' });
  });
});

describe('a restart in place: a new incarnation', () => {
  const NOW = STARTED + 301 * S;
  const before = withPolicy(['RUNNING', { startedAt: STARTED, health: 'HEALTHY', portBindings: runningInfo(STARTED).portBindings }]);
  const after = observe(before, exited(3, NOW - 500), NOW);

  it('is one state change: back to CREATED with the count, the exit and when saved, the ended run forgotten; same Docker container', () => {
    const c = app(after);
    expect(c).toMatchObject({ knownStatus: 'CREATED', dockerId: fakeId('app'), restartCount: 1, lastExitCode: 3, lastRestartAt: NOW, lastFinishedAt: NOW - 500, portBindings: [] });
    for (const gone of ['exitCode', 'reason', 'startedAt', 'finishedAt', 'health']) expect(c).not.toHaveProperty(gone);
  });

  it('does not stop the task, though the container is essential; the task stays RUNNING', () => {
    expect(app(before).definition.essential).toBe(true);
    expect(after).toMatchObject({ desiredStatus: 'RUNNING', knownStatus: 'RUNNING' });
    expect(after.containers.map((c) => c.desiredStatus)).toEqual(['RUNNING', 'RUNNING']);
  });

  it('is started next, by the planner, as any created container', () => {
    expect(formatPlan(plan(planInput(after, NOW)))).toBe(`start app ${shortFakeId('app')}`);
  });

  it('reports the ended incarnation STOPPED (exit code, ContainerRestarting), then the new one CREATED with its restartCount; no task event', () => {
    expect(stateChanges(before, after, 'now')).toEqual([
      {
        type: 'container', taskArn: before.arn, containerName: 'app', dockerId: fakeId('app'), status: 'STOPPED', exitCode: 3,
        reason: 'ContainerRestarting', reasonMessage: 'container app exited with exit code 3; its restartPolicy restarts it in place (restart 1)',
        portBindings: runningInfo(STARTED).portBindings, health: 'HEALTHY', action: 'stop', service: 'web/app', at: 'now',
      },
      { type: 'container', taskArn: before.arn, containerName: 'app', dockerId: fakeId('app'), status: 'CREATED', restartCount: 1, service: 'web/app', at: 'now' },
    ]);
  });

  it('an incarnation that exited before it was ever seen running is reported RUNNING first: it did run', () => {
    const starting = withPolicy(['CREATED', { restartCount: 1, lastRestartAt: STARTED, lastFinishedAt: STARTED - 10, lastExitCode: 3 }]);
    const next = observe(starting, exited(4, NOW - 5, { startedAt: STARTED + 2 * S }), NOW);
    expect(app(next)).toMatchObject({ knownStatus: 'CREATED', restartCount: 2, lastExitCode: 4 });
    expect(stateChanges(starting, next, 'now').map((e) => [e.status, e.restartCount, e.exitCode, e.reason, e.action])).toEqual([
      ['RUNNING', 1, undefined, undefined, 'start'],
      ['STOPPED', 1, 4, 'ContainerRestarting', 'stop'],
      ['CREATED', 2, undefined, undefined, undefined],
    ]);
  });

  it('seeing the exit it answered again changes nothing (the agent killed after saving the restart re-reads it): no second restart', () => {
    expect(isAnsweredExit(app(after), exited(3, NOW - 500))).toBe(true);
    expect(observe(after, exited(3, NOW - 500), NOW + 3_600 * S)).toBe(after);
  });

  it('the restarted run is adopted with its own start time and ports, the count unchanged', () => {
    const up = observe(after, runningInfo(NOW + 100), NOW + 200);
    expect(app(up)).toMatchObject({ knownStatus: 'RUNNING', startedAt: NOW + 100, restartCount: 1, portBindings: runningInfo(0).portBindings });
    expect(stateChanges(after, up, 'now').map((e) => [e.status, e.restartCount])).toEqual([['RUNNING', 1]]);
  });

  it('a new exit within the period after the restart is final, and says why it was not restarted; the essential container then stops the task', () => {
    const up = observe(after, runningInfo(NOW + 100), NOW + 200);
    const down = observe(up, exited(3, NOW + 60 * S, { startedAt: NOW + 100 }), NOW + 60 * S);
    expect(app(down)).toMatchObject({
      knownStatus: 'STOPPED', exitCode: 3, restartCount: 1, lastExitCode: 3,
      reason: { code: 'ContainerExited', message: 'container app exited with exit code 3; not restarted: it ran 60 s since its last restart, less than its restartAttemptPeriod of 300 s' },
    });
    expect(down.desiredStatus).toBe('STOPPED');
    expect(stateChanges(up, down, 'now').find((e) => e.type === 'container')).toMatchObject({ status: 'STOPPED', restartCount: 1, exitCode: 3, reason: 'ContainerExited' });
  });

  it('a new exit a period after the restart restarts it again: incarnation 2', () => {
    const up = observe(after, runningInfo(NOW + 100), NOW + 200);
    const again = observe(up, exited(5, NOW + 400 * S, { startedAt: NOW + 100 }), NOW + 400 * S);
    expect(app(again)).toMatchObject({ knownStatus: 'CREATED', restartCount: 2, lastExitCode: 5, lastRestartAt: NOW + 400 * S });
  });

  it('an ignored exit code is final, and the reason says so', () => {
    const t = observe(before, exited(0, NOW - 500), NOW);
    expect(app(t).reason).toEqual({ code: 'ContainerExited', message: "container app exited with exit code 0; not restarted: exit code 0 is in its restartPolicy's ignoredExitCodes" });
  });

  it('an OOM kill restarts it like any exit code not ignored; too soon, OutOfMemory says why it was not restarted', () => {
    expect(app(observe(before, exited(137, NOW - 500, { oomKilled: true }), NOW))).toMatchObject({ knownStatus: 'CREATED', restartCount: 1, lastExitCode: 137 });
    const early = observe(before, exited(137, STARTED + 5 * S, { oomKilled: true }), STARTED + 5 * S);
    expect(app(early).reason).toEqual({ code: 'OutOfMemory', message: 'container app was killed for running out of memory; not restarted: it ran 5 s, less than its restartAttemptPeriod of 300 s' });
  });

  it('a non-essential container exiting too soon stays STOPPED and the task runs on', () => {
    const t = withPolicy(['RUNNING', { startedAt: STARTED }], POLICY, ['app']);
    const next = observe(t, exited(3, STARTED + 10 * S), STARTED + 10 * S);
    expect(app(next).knownStatus).toBe('STOPPED');
    expect(next.desiredStatus).toBe('RUNNING');
  });
});

describe('a task stop request ends a pending restart', () => {
  const NOW = STARTED + 301 * S;
  const pending = observe(withPolicy(['RUNNING', { startedAt: STARTED }]), exited(3, NOW - 500), NOW);
  const stopping = raiseDesired(pending, 'STOPPED', NOW + 1);

  it('the pending incarnation is stopped, not started', () => {
    expect(formatPlan(plan(planInput(stopping, NOW + 1)))).toContain(`stop app ${shortFakeId('app')}`);
    expect(formatPlan(plan(planInput(stopping, NOW + 1)))).not.toContain('start app');
  });

  it('Docker showing the answered exit then makes it STOPPED for the stop request, without the old exit code: this incarnation never ran', () => {
    const done = observe(stopping, exited(3, NOW - 500), NOW + 2);
    expect(app(done)).toMatchObject({ knownStatus: 'STOPPED', restartCount: 1, lastExitCode: 3, reason: { code: 'TaskStopRequested' } });
    expect(app(done)).not.toHaveProperty('exitCode');
    expect(stateChanges(stopping, done, 'now').filter((e) => e.type === 'container').map((e) => [e.status, e.restartCount, e.exitCode])).toEqual([['STOPPED', 1, undefined]]);
  });

  it('an exit seen after the stop request is never restarted', () => {
    const t = raiseDesired(withPolicy(['RUNNING', { startedAt: STARTED }]), 'STOPPED', NOW);
    expect(app(observe(t, exited(3, NOW), NOW + 1))).toMatchObject({ knownStatus: 'STOPPED', exitCode: 3, reason: { code: 'TaskStopRequested' } });
  });
});

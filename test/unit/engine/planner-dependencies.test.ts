import { describe, expect, it } from 'vitest';
import type { ContainerDefinition, ContainerState, TaskDefinition } from '../../../src/api/task.js';
import { formatPlan, plan, type PlanInput } from '../../../src/engine/planner.js';
import { newTaskState, settle } from '../../../src/engine/task-state.js';
import { AGENT_ID, containerDef, fakeId, planInput, shortFakeId, taskDef } from '../../support/fixtures.js';

/*
 * The task-wide plan: dependencies gate creation, their failure or timeout stops the dependent
 * without creating it, the shutdown runs dependents first, and volumes exist before what mounts
 * them. Each row is a situation and its plan, compared as text.
 */

const NOW = 100_000;
const HEALTH = { command: ['CMD-SHELL', 'true'], interval: 5, timeout: 2, retries: 3, startPeriod: 0 };

type Spec = [Partial<ContainerDefinition>, ContainerState['knownStatus'], Partial<ContainerState>?];

function task(containers: Record<string, Spec>, options: { desired?: 'RUNNING' | 'STOPPED'; def?: Partial<TaskDefinition> } = {}) {
  const defs = Object.entries(containers).map(([name, [fields]]) => containerDef(name, fields));
  const base = newTaskState(taskDef('arn:test:task/deps', defs, { desiredStatus: options.desired ?? 'RUNNING', ...options.def }), 1_000, AGENT_ID);
  const states = base.containers.map((c) => {
    const [, status, extra = {}] = containers[c.definition.name]!;
    const withId = status === 'CREATED' || status === 'RUNNING' || extra.startedAt !== undefined;
    return { ...c, knownStatus: status, ...(withId ? { dockerId: fakeId(c.definition.name) } : {}), ...extra };
  });
  return settle({ ...base, containers: states }, 1_000);
}

const input = (task: PlanInput['task'], extra: Partial<PlanInput> = {}): PlanInput => planInput(task, NOW, extra);
const id = shortFakeId;
const on = (containerName: string, condition: 'START' | 'COMPLETE' | 'SUCCESS' | 'HEALTHY') => ({ dependsOn: [{ containerName, condition }] });
const exited = (code: number): Partial<ContainerState> => ({ exitCode: code, startedAt: 2_000, finishedAt: 3_000, reason: { code: 'ContainerExited', message: `exited ${code}` } });

describe('plan with dependencies', () => {
  const table: Array<[string, PlanInput, string]> = [
    ['pulls do not wait for dependencies', input(task({ db: [{}, 'NONE'], app: [on('db', 'START'), 'NONE'] })), 'pull db registry.test:5000/berth/busybox:latest\npull app registry.test:5000/berth/busybox:latest'],
    ['START waits until the dependency runs', input(task({ db: [{}, 'CREATED'], app: [on('db', 'START'), 'PULLED'] })), `start db ${id('db')}`],
    ['START is met once the dependency runs', input(task({ db: [{}, 'RUNNING', { startedAt: 2_000 }], app: [on('db', 'START'), 'PULLED'] })), 'create app'],
    ['independent containers advance together', input(task({ a: [{}, 'PULLED'], b: [{}, 'PULLED'], c: [on('a', 'START'), 'PULLED'] })), 'create a\ncreate b'],
    ['COMPLETE waits for the dependency to exit', input(task({ init: [{ essential: false }, 'RUNNING', { startedAt: 2_000 }], app: [on('init', 'COMPLETE'), 'PULLED'] })), '(nothing to do)'],
    ['COMPLETE is met by any exit code', input(task({ init: [{ essential: false }, 'STOPPED', exited(3)], app: [on('init', 'COMPLETE'), 'PULLED'] })), 'create app'],
    ['SUCCESS is met by exit code 0', input(task({ init: [{ essential: false }, 'STOPPED', exited(0)], app: [on('init', 'SUCCESS'), 'PULLED'] })), 'create app'],
    [
      'SUCCESS with a non-zero exit can never be met: the dependent stops uncreated',
      input(task({ init: [{ essential: false }, 'STOPPED', exited(1)], app: [on('init', 'SUCCESS'), 'PULLED'] })),
      'abandon app DependencyFailed: container app depends on init (condition SUCCESS), which can no longer be met: it exited with code 1',
    ],
    ['HEALTHY waits while the dependency is not healthy yet', input(task({ db: [{ healthCheck: HEALTH }, 'RUNNING', { startedAt: 2_000, health: 'UNKNOWN' }], app: [on('db', 'HEALTHY'), 'PULLED'] })), '(nothing to do)'],
    ['HEALTHY is met by a healthy dependency', input(task({ db: [{ healthCheck: HEALTH }, 'RUNNING', { startedAt: 2_000, health: 'HEALTHY' }], app: [on('db', 'HEALTHY'), 'PULLED'] })), 'create app'],
    [
      "a dependency's startTimeout bounds the wait, and the plan wakes when it ends",
      input(task({ db: [{ healthCheck: HEALTH, startTimeout: 10 }, 'RUNNING', { startedAt: 95_000, health: 'UNKNOWN' }], app: [on('db', 'HEALTHY'), 'PULLED'] })),
      `wake at ${new Date(105_000).toISOString()}`,
    ],
    [
      "a dependency's startTimeout that passed stops the dependent with DependencyTimeout",
      input(task({ db: [{ startTimeout: 5, essential: false }, 'RUNNING', { startedAt: 90_000 }], app: [on('db', 'SUCCESS'), 'PULLED'] })),
      'abandon app DependencyTimeout: container app gave up on db: it did not reach SUCCESS within its startTimeout of 5 s',
    ],
    ['links wait for the linked container to run', input(task({ db: [{}, 'CREATED'], web: [{ links: ['db:database'] }, 'PULLED'] })), `start db ${id('db')}`],
    ['volumesFrom needs its source to exist, not to run', input(task({ data: [{ essential: false }, 'CREATED'], app: [{ volumesFrom: [{ sourceContainer: 'data', readOnly: false }] }, 'PULLED'] })), `start data ${id('data')}\ncreate app`],
    [
      'a task PID namespace waits for its owner, the first container',
      input(task({ first: [{}, 'CREATED'], second: [{}, 'PULLED'] }, { def: { pidMode: 'task' } })),
      `start first ${id('first')}`,
    ],
  ];
  it.each(table)('%s', (_name, given, expected) => {
    expect(formatPlan(plan(given))).toBe(expected);
  });
});

describe('plan of a shutdown', () => {
  const table: Array<[string, PlanInput, string]> = [
    [
      'dependents stop before what they depend on, each with its own stopTimeout',
      input(task({ db: [{ stopTimeout: 45 }, 'RUNNING', { startedAt: 2_000 }], app: [{ ...on('db', 'START'), stopTimeout: 5 }, 'RUNNING', { startedAt: 3_000 }] }, { desired: 'STOPPED' })),
      `stop app ${id('app')} timeout=5s`,
    ],
    [
      'what others depended on stops once they have stopped',
      input(task({ db: [{ stopTimeout: 45 }, 'RUNNING', { startedAt: 2_000 }], app: [on('db', 'START'), 'STOPPED', exited(0)] }, { desired: 'STOPPED' })),
      `stop db ${id('db')} timeout=45s`,
    ],
    [
      'containers with no dependency between them stop together',
      input(task({ a: [{}, 'RUNNING'], b: [{}, 'RUNNING'] }, { desired: 'STOPPED' })),
      `stop a ${id('a')} timeout=2s\nstop b ${id('b')} timeout=2s`,
    ],
    [
      'a dependent waiting for its dependency is abandoned at once',
      input(task({ db: [{}, 'RUNNING', { startedAt: 2_000 }], app: [on('db', 'HEALTHY'), 'PULLED'] }, { desired: 'STOPPED' })),
      'abandon app',
    ],
    ['a stop request overtakes a pull in flight', input(task({ app: [{}, 'NONE'] }, { desired: 'STOPPED' }), { inFlight: new Map([['app', 'pull']]) }), 'cancel pull app'],
    [
      'a stop request overtakes a container waiting out a retry backoff: abandoning it needs no Docker call',
      input(task({ app: [{}, 'NONE'] }, { desired: 'STOPPED' }), { retryAt: new Map([['app', NOW + 30_000]]) }),
      'abandon app',
    ],
    [
      'but a container to be re-read first (a failed create may have made it) still waits for its backoff',
      input(task({ app: [{}, 'PULLED'] }, { desired: 'STOPPED' }), { retryAt: new Map([['app', NOW + 30_000]]), refresh: new Set(['app']) }),
      `wake at ${new Date(NOW + 30_000).toISOString()}`,
    ],
  ];
  it.each(table)('%s', (_name, given, expected) => {
    expect(formatPlan(plan(given))).toBe(expected);
  });
});

describe('plan with volumes', () => {
  const taskVolume = { name: 'scratch', kind: 'task', autoprovision: false, driver: 'local', driverOpts: {}, labels: {} } as const;
  const shared = { name: 'cache', kind: 'shared', autoprovision: false, driver: 'local', driverOpts: {}, labels: {} } as const;
  const mount = (sourceVolume: string) => ({ mountPoints: [{ sourceVolume, containerPath: '/data', readOnly: false }] });
  const table: Array<[string, PlanInput, string]> = [
    ['a task volume is made before the container that mounts it', input(task({ a: [mount('scratch'), 'PULLED'], b: [mount('scratch'), 'PULLED'] }, { def: { volumes: [taskVolume] } })), 'create volume scratch'],
    ['once made, the containers are created', input({ ...task({ a: [mount('scratch'), 'PULLED'] }, { def: { volumes: [taskVolume] } }), provisionedVolumes: ['scratch'] }), 'create a'],
    ['a shared volume without autoprovision is only required to exist', input(task({ a: [mount('cache'), 'PULLED'] }, { def: { volumes: [shared] } })), 'require volume cache'],
    ['a bind mount needs nothing made', input(task({ a: [mount('host'), 'PULLED'] }, { def: { volumes: [{ name: 'host', kind: 'bind', sourcePath: '/srv' }] } })), 'create a'],
    [
      'cleanup removes the task volumes, never the shared ones',
      input({ ...task({ a: [mount('scratch'), 'STOPPED', exited(0)] }, { desired: 'STOPPED', def: { volumes: [taskVolume, shared] } }), stoppedAt: 0 }),
      `cleanup ${id('a')} volume:scratch`,
    ],
  ];
  it.each(table)('%s', (_name, given, expected) => {
    expect(formatPlan(plan(given))).toBe(expected);
  });
});

import { describe, expect, it } from 'vitest';
import { CLEANUP_KEY, formatPlan, plan, type PlanInput } from '../../../src/engine/planner.js';
import { fakeId, planInput, shortFakeId, taskAt } from '../../support/fixtures.js';

const NOW = 10_000;
const input = (task: PlanInput['task'], extra: Partial<PlanInput> = {}): PlanInput => planInput(task, NOW, extra);

const id = shortFakeId;

describe('plan', () => {
  // Each row: a situation, and the plan expected for it, compared as printed text.
  const table: Array<[string, PlanInput, string]> = [
    ['new task pulls every container', input(taskAt({ app: 'NONE', side: 'NONE' })), 'pull app registry.test:5000/berth/busybox:latest\npull side registry.test:5000/berth/busybox:latest'],
    ['pulled container is created', input(taskAt({ app: 'PULLED' })), 'create app'],
    ['created container is started', input(taskAt({ app: 'CREATED' })), `start app ${id('app')}`],
    ['containers advance independently', input(taskAt({ app: 'RUNNING', side: 'PULLED' })), 'create side'],
    ['running task needs nothing', input(taskAt({ app: 'RUNNING', side: 'RUNNING' })), '(nothing to do)'],
    [
      'stopping task stops running and created containers with their stop timeout',
      input(taskAt({ app: 'RUNNING', side: 'CREATED' }, { desired: 'STOPPED' })),
      `stop app ${id('app')} timeout=2s\nstop side ${id('side')} timeout=2s`,
    ],
    [
      'a task waiting for host resources plans nothing',
      input({ ...taskAt({ app: 'NONE', side: 'NONE' }), waiting: { position: 1, message: 'needs memory' } }),
      '(nothing to do)',
    ],
    [
      'a waiting task asked to stop leaves the queue: its containers are abandoned, with no Docker call',
      input({ ...taskAt({ app: 'NONE' }, { desired: 'STOPPED' }), waiting: { position: 1, message: 'needs memory' } }),
      'abandon app',
    ],
    [
      'containers that never reached Docker are abandoned when the task stops',
      input(taskAt({ app: 'NONE', side: 'PULLED' }, { desired: 'STOPPED' })),
      'abandon app\nabandon side',
    ],
    [
      'an essential container that exited stops the rest',
      input(taskAt({ app: ['STOPPED', { exitCode: 3, reason: { code: 'ContainerExited', message: 'x' } }], side: 'RUNNING' })),
      `stop side ${id('side')} timeout=2s`,
    ],
    [
      'a non-essential container that exited stops nothing',
      input(taskAt({ app: 'RUNNING', side: ['STOPPED', { exitCode: 0, reason: { code: 'ContainerExited', message: 'x' } }] }, { nonEssential: ['side'] })),
      '(nothing to do)',
    ],
    [
      'refresh inspects by ID before anything else',
      input(taskAt({ app: 'CREATED', side: 'RUNNING' }), { refresh: new Set(['app']) }),
      `inspect app (${fakeId('app')})`,
    ],
    [
      'refresh of a pulled container looks it up by its deterministic name',
      input(taskAt({ app: 'PULLED' }), { refresh: new Set(['app']) }),
      `inspect app (${taskAt({ app: 'PULLED' }).containers[0]!.dockerName})`,
    ],
    [
      'a container in backoff waits, and the plan says when to wake',
      input(taskAt({ app: 'NONE', side: 'NONE' }), { retryAt: new Map([['app', NOW + 500]]) }),
      `pull side registry.test:5000/berth/busybox:latest\nwake at ${new Date(NOW + 500).toISOString()}`,
    ],
    [
      'a backoff that has ended no longer holds the container',
      input(taskAt({ app: 'NONE' }), { retryAt: new Map([['app', NOW]]) }),
      'pull app registry.test:5000/berth/busybox:latest',
    ],
    [
      'a stopped task waits for the cleanup delay',
      input(taskAt({ app: ['STOPPED', { dockerId: fakeId('app') }] }, { stoppedAt: NOW - 1_000 })),
      `wake at ${new Date(NOW - 1_000 + 60_000).toISOString()}`,
    ],
    [
      'a stopped task is cleaned up once the delay has passed; a container without a saved ID by its name',
      input(taskAt({ app: ['STOPPED', { dockerId: fakeId('app') }], side: 'STOPPED' }, { stoppedAt: NOW - 60_000 })),
      `cleanup ${id('app')} ${taskAt({ side: 'STOPPED' }).containers[0]!.dockerName}`,
    ],
    [
      'a cleanup that failed waits out its backoff',
      input(taskAt({ app: ['STOPPED', { dockerId: fakeId('app') }] }, { stoppedAt: NOW - 60_000 }), { retryAt: new Map([[CLEANUP_KEY, NOW + 250]]) }),
      `wake at ${new Date(NOW + 250).toISOString()}`,
    ],
  ];

  it.each(table)('%s', (_name, given, expected) => {
    expect(formatPlan(plan(given))).toBe(expected);
  });

  it('never plans for a stopped container, whatever is asked', () => {
    const task = taskAt({ app: ['STOPPED', { dockerId: fakeId('app') }] }, { stoppedAt: NOW });
    expect(formatPlan(plan(input(task, { refresh: new Set(['app']) })))).toBe(`wake at ${new Date(NOW + 60_000).toISOString()}`);
  });
});

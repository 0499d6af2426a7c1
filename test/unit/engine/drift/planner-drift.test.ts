import { describe, expect, it } from 'vitest';
import { reason } from '../../../../src/api/reasons.js';
import type { RetiringContainer, TaskDefinition, TaskState } from '../../../../src/api/task.js';
import { planDefinitionChange } from '../../../../src/engine/drift/definition-change.js';
import { nextGeneration } from '../../../../src/engine/drift/next-generation.js';
import { retireKey } from '../../../../src/engine/actions.js';
import { formatPlan, plan, type PlanInput } from '../../../../src/engine/planner.js';
import { newTaskState, settle } from '../../../../src/engine/task-state.js';
import { AGENT_ID, containerDef, fakeId, planInput, shortFakeId as id, taskAt, taskDef } from '../../../support/fixtures.js';

const NOW = 10_000;
const input = (task: TaskState, extra: Partial<PlanInput> = {}): PlanInput => planInput(task, NOW, extra);
const old = (name: string, after: string[] = []): RetiringContainer => ({ name, dockerId: fakeId(`old-${name}`), dockerName: `berth-old-${name}`, stopTimeout: 7, after });
const retiring = (task: TaskState, ...list: RetiringContainer[]): TaskState => ({ ...task, retiring: list });

describe('plan, with old instances retiring', () => {
  // Each row: a situation, and the plan expected for it, compared as printed text.
  const table: Array<[string, PlanInput, string]> = [
    [
      'an old instance is retired with its own stopTimeout while the new one pulls',
      input(retiring(taskAt({ app: 'NONE', side: 'RUNNING' }), old('app'))),
      `retire app ${id('old-app')} timeout=7s\npull app registry.test:5000/berth/busybox:latest`,
    ],
    ['the new instance is not created while the old one holds its name', input(retiring(taskAt({ app: 'PULLED' }), old('app'))), `retire app ${id('old-app')} timeout=7s`],
    [
      'the new instance is not created while its old one is still being retired',
      input(retiring(taskAt({ app: 'PULLED' }), old('app')), { inFlight: new Map([[retireKey('app'), 'retire']]) }),
      '(nothing to do)',
    ],
    ['dependents retire before their dependencies', input(retiring(taskAt({ db: 'NONE', app: 'NONE' }), old('db', ['app']), old('app'))), `retire app ${id('old-app')} timeout=7s\npull db registry.test:5000/berth/busybox:latest\npull app registry.test:5000/berth/busybox:latest`],
    [
      'an old instance whose ID was never saved is retired by name',
      input(retiring(taskAt({ app: 'RUNNING' }), { name: 'gone', dockerName: 'berth-x-gone', stopTimeout: 3, after: [] })),
      'retire gone berth-x-gone timeout=3s',
    ],
    [
      'a stopped task is cleaned up only once every old instance is gone',
      input(retiring(taskAt({ app: ['STOPPED', { dockerId: fakeId('app') }] }, { desired: 'STOPPED', stoppedAt: 0 }), old('side'))),
      `retire side ${id('old-side')} timeout=7s`,
    ],
    [
      'a drifted container is only reported without --recreate-on-drift',
      input(taskAt({ app: ['RUNNING', { drift: reason('ContainerDrifted', 'x') }] })),
      '(nothing to do)',
    ],
    [
      'a drifted container is recreated with --recreate-on-drift',
      input(taskAt({ app: ['RUNNING', { drift: reason('ContainerDrifted', 'x') }] }), { recreateOnDrift: true }),
      `recreate drifted app ${id('app')}`,
    ],
  ];
  it.each(table)('%s', (_name, situation, expected) => {
    expect(formatPlan(plan(situation))).toBe(expected);
  });
});

describe('planDefinitionChange and nextGeneration', () => {
  const ARN = 'arn:test:task/t1';
  const running = (def: TaskDefinition): TaskState => {
    const t = newTaskState(def, 1_000, AGENT_ID);
    return settle({ ...t, containers: t.containers.map((c) => ({ ...c, knownStatus: 'RUNNING' as const, dockerId: fakeId(c.definition.name) })) }, 1_000);
  };
  const base = taskDef(ARN, [containerDef('db'), containerDef('app', { links: ['db'] }), containerDef('side')]);
  const summary = (current: TaskState | undefined, next: TaskDefinition): string =>
    planDefinitionChange(current, next)
      .containers.map((c) => `${c.action} ${c.name}${c.action === 'recreate' ? ` [${c.diff.map((d) => d.path).join(', ')}]${c.because ? ` (${c.because})` : ''}` : ''}`)
      .join('; ');
  const table: Array<[string, TaskState | undefined, TaskDefinition, string]> = [
    ['no task: everything is created', undefined, base, 'create db; create app; create side'],
    ['same definition: everything kept', running(base), base, 'keep db; keep app; keep side'],
    [
      'a changed image recreates that container alone',
      running(base),
      { ...base, containers: [base.containers[0]!, base.containers[1]!, { ...base.containers[2]!, image: 'other:2' }] },
      'keep db; keep app; recreate side [container.image]',
    ],
    [
      'a recreated link target recreates the container linking to it',
      running(base),
      { ...base, containers: [{ ...base.containers[0]!, environment: { V: '2' } }, base.containers[1]!, base.containers[2]!] },
      'recreate db [container.environment.V]; recreate app [] (db, which it refers to by links, is made anew); keep side',
    ],
    [
      'a new revision that changes no container keeps them all',
      running(base),
      { ...base, version: '2' },
      'keep db; keep app; keep side',
    ],
    [
      'a dropped container is stopped, a new one created',
      running(base),
      { ...base, containers: [base.containers[0]!, base.containers[1]!, containerDef('extra')] },
      'keep db; keep app; create extra; stop side',
    ],
    [
      'a stopped container is recreated even if unchanged',
      { ...running(base), containers: running(base).containers.map((c) => (c.definition.name === 'side' ? { ...c, knownStatus: 'STOPPED' as const } : c)) },
      { ...base, version: '2' },
      'keep db; keep app; recreate side [] (its container is stopped)',
    ],
    [
      'the network mode recreates every container',
      running(base),
      { ...base, networkMode: 'host' },
      'recreate db [task.networkMode]; recreate app [task.networkMode]; recreate side [task.networkMode]',
    ],
  ];
  it.each(table)('%s', (_name, current, next, expected) => {
    expect(summary(current, next)).toBe(expected);
  });

  it('keeps unchanged containers (same ID), retires the old instances in dependency order, and starts generation 2', () => {
    const current = running(base);
    const next = nextGeneration(current, { ...base, containers: [{ ...base.containers[0]!, environment: { V: '2' } }, base.containers[1]!] }, 2_000, AGENT_ID);
    expect(next.generation).toBe(2);
    expect(next.knownStatus).toBe('RUNNING');
    expect(next.containers.map((c) => [c.definition.name, c.knownStatus, c.dockerId])).toEqual([
      ['db', 'NONE', undefined],
      ['app', 'NONE', undefined],
    ]);
    expect(next.retiring).toEqual([
      { name: 'db', dockerId: fakeId('db'), dockerName: current.containers[0]!.dockerName, stopTimeout: 2, after: ['app'] },
      { name: 'app', dockerId: fakeId('app'), dockerName: current.containers[1]!.dockerName, stopTimeout: 2, after: [] },
      { name: 'side', dockerId: fakeId('side'), dockerName: current.containers[2]!.dockerName, stopTimeout: 2, after: [] },
    ]);
    expect(nextGeneration({ ...current, rules: 1 }, { ...base, version: '2' }, 2_000, AGENT_ID).rules).toBeUndefined();
    const kept = nextGeneration(current, { ...base, version: '2' }, 2_000, AGENT_ID);
    expect(kept.containers.map((c) => c.dockerId)).toEqual(current.containers.map((c) => c.dockerId));
    expect(kept.retiring).toBeUndefined();
  });
});

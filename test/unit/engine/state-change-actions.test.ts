import { describe, expect, it } from 'vitest';
import type { ContainerState, TaskState } from '../../../src/api/task.js';
import type { ContainerStatus } from '../../../src/api/status.js';
import { stateChanges } from '../../../src/engine/state-changes.js';
import { taskAt } from '../../support/fixtures.js';

type Look = ContainerStatus | [ContainerStatus, Partial<ContainerState>];

/** The actions (beacon's start/update/stop) the container events of one transition carry, in order. */
function actions(before: Look, after: Look): Array<[ContainerStatus, string | undefined]> {
  return stateChanges(taskAt({ app: before }), taskAt({ app: after }), 'T')
    .filter((e) => e.type === 'container')
    .map((e) => [e.status, e.action]);
}

describe('the action a container event implies', () => {
  it.each<[string, Look, Look, Array<[ContainerStatus, string | undefined]>]>([
    ['created', 'PULLED', 'CREATED', [['CREATED', undefined]]],
    ['started', 'CREATED', ['RUNNING', { startedAt: 5 }], [['RUNNING', 'start']]],
    ['stopped after running', ['RUNNING', { startedAt: 5 }], ['STOPPED', { startedAt: 5, exitCode: 0 }], [['STOPPED', 'stop']]],
    ['failed before it ever ran: nothing to stop', 'CREATED', 'STOPPED', [['STOPPED', undefined]]],
    ['ran and exited between two looks: start, then stop', 'CREATED', ['STOPPED', { startedAt: 5, exitCode: 1 }], [['RUNNING', 'start'], ['STOPPED', 'stop']]],
    ['health changed while running: update', ['RUNNING', { health: 'UNKNOWN' }], ['RUNNING', { health: 'HEALTHY' }], [['RUNNING', 'update']]],
    ['health changed while not running: no action', ['STOPPED', { health: 'HEALTHY', dockerId: 'x'.repeat(64) }], ['STOPPED', { health: 'UNHEALTHY', dockerId: 'x'.repeat(64) }], [['STOPPED', undefined]]],
  ])('%s', (_name, before, after, expected) => {
    expect(actions(before, after)).toEqual(expected);
  });

  it('carries the service name and the container’s own labels, never the agent’s', () => {
    const labelled = (t: TaskState): TaskState => ({
      ...t,
      containers: t.containers.map((c) => ({ ...c, definition: { ...c.definition, labels: { tier: 'web' } } })),
    });
    const [event] = stateChanges(labelled(taskAt({ app: 'CREATED' })), labelled(taskAt({ app: 'RUNNING' })), 'T');
    expect(event).toMatchObject({ action: 'start', service: 'web/app', labels: { tier: 'web' } });
    const [bare] = stateChanges(taskAt({ app: 'CREATED' }), taskAt({ app: 'RUNNING' }), 'T');
    expect(bare).not.toHaveProperty('labels');
  });
});

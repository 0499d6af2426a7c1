import { describe, expect, it } from 'vitest';
import { stateChanges } from '../../../src/engine/state-changes.js';
import { makeEngine } from '../../support/engine-harness.js';
import { taskAt } from '../../support/fixtures.js';
import { def } from './merger-support.js';

const AT = '2026-12-02T12:00:00.000Z';

describe('conflict events', () => {
  const running = taskAt({ app: 'RUNNING' });
  const owned = { ...running, source: 'api' };

  it('a conflict starting, changing and ending is a task event of its own, at the task\'s status', () => {
    const claimed = { ...owned, conflicts: ['manifests'] };
    expect(stateChanges(owned, claimed, AT)).toEqual([
      { type: 'task', taskArn: running.arn, status: 'RUNNING', reason: 'SourceConflict', reasonMessage: 'also claimed by manifests; api keeps it', at: AT },
    ]);
    expect(stateChanges(claimed, { ...owned, conflicts: ['manifests', 'etcd'] }, AT)).toMatchObject([{ reason: 'SourceConflict', reasonMessage: 'also claimed by manifests, etcd; api keeps it' }]);
    expect(stateChanges(claimed, owned, AT)).toEqual([
      { type: 'task', taskArn: running.arn, status: 'RUNNING', reason: 'SourceConflictResolved', reasonMessage: 'claimed by api alone again', at: AT },
    ]);
  });

  it('no conflict change, no event: a new owner alone is not one', () => {
    expect(stateChanges(running, owned, AT)).toEqual([]);
    expect(stateChanges(owned, { ...owned, source: 'manifests' }, AT)).toEqual([]);
  });

  it('recordSources on the engine saves source and conflicts, and an unknown arn is a no-op', async () => {
    const { engine, events } = makeEngine();
    await engine.start();
    try {
      const task = def('rec');
      await engine.addTask({ kind: 'definition', task });
      await engine.recordSources(task.arn, { source: 'api', conflicts: ['fleet'] });
      expect(engine.getTask(task.arn)).toMatchObject({ source: 'api', conflicts: ['fleet'] });
      await engine.recordSources(task.arn, { source: 'api', conflicts: [] });
      expect(engine.getTask(task.arn)?.conflicts).toBeUndefined();
      await engine.recordSources('arn:berth:task/unknown', { source: 'api', conflicts: [] });
      expect(engine.getTask('arn:berth:task/unknown')).toBeUndefined();
      expect(events.filter((e) => e.reason?.startsWith('SourceConflict')).map((e) => e.reason)).toEqual(['SourceConflict', 'SourceConflictResolved']);
    } finally {
      await engine.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { bareTask, describeSaverContract, event, fullTask } from '../../contract/saver.contract.js';

describeSaverContract('MemorySaver', async () => {
  const saver = new MemorySaver();
  return { saver, cleanup: () => saver.close() };
});

describe('MemorySaver test controls', () => {
  it('failNextCommit rejects the next commit with that error, changes nothing, then clears', async () => {
    const saver = new MemorySaver();
    const [first] = await saver.commit({ put: [bareTask()], events: [event(bareTask().arn)] });
    expect(saver.commits).toBe(1);

    const boom = new Error('disk on fire');
    saver.failNextCommit(boom);
    await expect(
      saver.commit({ put: [fullTask()], remove: [bareTask().arn], events: [event('x')] }),
    ).rejects.toBe(boom);
    expect(saver.commits).toBe(1);
    expect(await saver.loadTasks()).toEqual([bareTask()]);
    expect(await saver.lastSeq()).toBe(first!.seq);

    const [next] = await saver.commit({ events: [event('y')] });
    expect(next!.seq).toBe(first!.seq + 1);
    expect(saver.commits).toBe(2);
  });

  it('does not count commits rejected as invalid', async () => {
    const saver = new MemorySaver();
    await expect(saver.commit({ events: [event('x', { status: 'NOPE' as never })] })).rejects.toThrow();
    expect(saver.commits).toBe(0);
  });

  it('hands out deeply frozen values, so an engine that mutates state fails its tests', async () => {
    const saver = new MemorySaver();
    const [change] = await saver.commit({ put: [fullTask()], events: [event('x', { portBindings: [] })] });
    const [task] = await saver.loadTasks();
    expect(Object.isFrozen(task)).toBe(true);
    expect(Object.isFrozen(task!.containers[0]!.definition.environment)).toBe(true);
    expect(Object.isFrozen(task!.containers[0]!.portBindings[0])).toBe(true);
    expect(Object.isFrozen(change!.portBindings)).toBe(true);
    expect(() => {
      (task as { knownStatus: string }).knownStatus = 'RUNNING';
    }).toThrow(TypeError);
  });

  it('orders tasks oldest first, then by arn, as SqliteSaver does', async () => {
    const saver = new MemorySaver();
    await saver.commit({ put: [bareTask('b', 2), bareTask('c', 1), bareTask('a', 2)] });
    expect((await saver.loadTasks()).map((t) => t.arn)).toEqual(['c', 'a', 'b']);
  });
});

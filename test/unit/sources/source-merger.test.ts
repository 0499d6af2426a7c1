import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log/logger.js';
import { SourceMerger } from '../../../src/sources/source-merger.js';
import type { TaskSource, SourceSink } from '../../../src/sources/task-source.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { openSqliteSaver } from '../../../src/state/sqlite-saver.js';
import type { Saver } from '../../../src/state/saver.js';
import { scratch } from '../../support/sqlite-tamper.js';
import { arnOf, CountingEngine, def, sourced } from './merger-support.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function merger(saver: Saver = new MemorySaver(), engine = new CountingEngine(), sources: TaskSource[] = []): Promise<{ m: SourceMerger; engine: CountingEngine; saver: Saver }> {
  const m = new SourceMerger({ engine, saver, log: silentLogger() });
  for (const s of sources) m.register(s);
  await m.start();
  stops.push(() => m.stop());
  return { m, engine, saver };
}

/** A watched source whose sink the test drives. */
function handSource(name: string): TaskSource & { sink?: SourceSink; saved?: { revision?: string } } {
  const s: TaskSource & { sink?: SourceSink; saved?: { revision?: string } } = {
    name,
    start: async (sink, saved) => {
      s.sink = sink;
      s.saved = saved;
    },
    stop: async () => {},
  };
  return s;
}

const statusOf = (m: SourceMerger, name: string) => m.statuses().find((s) => s.name === name)!;

describe('SourceMerger: one source', () => {
  it('SET adds each task once; the same SET again asks nothing; a changed task is applied; a task left out is stopped', async () => {
    const { m, engine } = await merger();
    await m.push('fleet', { op: 'SET', tasks: [sourced(def('a')), sourced(def('b'))] });
    expect(engine.definitionCalls(arnOf('a'))).toHaveLength(1);
    expect(engine.definitionCalls(arnOf('b'))).toHaveLength(1);
    const before = engine.calls.length;
    await m.push('fleet', { op: 'SET', tasks: [sourced(def('b')), sourced(def('a'))] });
    expect(engine.calls.length).toBe(before);

    await m.push('fleet', { op: 'SET', tasks: [sourced(def('a', '1', { desiredStatus: 'STOPPED' }))] });
    expect(engine.definitionCalls(arnOf('a')).at(-1)?.desiredStatus).toBe('STOPPED');
    expect(engine.stopCalls(arnOf('b'))).toBe(1);
    expect(statusOf(m, 'fleet')).toMatchObject({ kind: 'pushed', taskCount: 1, tasks: [{ arn: arnOf('a'), state: 'applied' }], conflicts: [] });
  });

  it('ADD upserts by arn, REMOVE stops; removing an unknown arn asks nothing', async () => {
    const { m, engine } = await merger();
    await m.push('api', { op: 'ADD', task: sourced(def('a')) });
    await m.push('api', { op: 'ADD', task: sourced(def('b')) });
    await m.push('api', { op: 'REMOVE', arn: arnOf('a') });
    await m.push('api', { op: 'REMOVE', arn: arnOf('never') });
    expect(engine.calls.map((c) => (c.kind === 'definition' ? `add ${c.task.arn}` : `${c.desiredStatus} ${c.arn}`))).toEqual([
      `add ${arnOf('a')}`,
      `add ${arnOf('b')}`,
      `STOPPED ${arnOf('a')}`,
    ]);
  });

  it('records a definition the engine refuses on the source, keeps the rest, and does not crash', async () => {
    const { m, engine } = await merger();
    await m.push('fleet', { op: 'SET', tasks: [sourced(def('a')), sourced(def('b'))] });
    const outcomes = await m.push('fleet', { op: 'SET', tasks: [sourced(def('a', '2')), sourced(def('b'))] });
    expect(outcomes.get(arnOf('a'))).toMatchObject({ kind: 'error' });
    expect(statusOf(m, 'fleet').tasks).toEqual([
      { arn: arnOf('a'), origin: `${arnOf('a')}.json`, state: 'refused', message: expect.stringContaining('different definition') },
      { arn: arnOf('b'), origin: `${arnOf('b')}.json`, state: 'applied' },
    ]);
    expect(engine.tasks.get(arnOf('a'))?.containers[0]?.definition.image).toBe('registry.test/app:1');
  });
});

describe('SourceMerger: conflicts', () => {
  it('the first claimant keeps the arn, the other claim is reported on both; when the owner drops it the contender takes over', async () => {
    const { m, engine } = await merger();
    await m.push('api', { op: 'ADD', task: sourced(def('a', '1'), 'POST /v1/tasks') });
    const outcome = await m.push('fleet', { op: 'SET', tasks: [sourced(def('a', '2'), 'a.json')] });
    expect(outcome.get(arnOf('a'))).toEqual({ kind: 'waiting', owner: 'api' });
    expect(engine.definitionCalls(arnOf('a')).map((d) => d.containers[0]!.image)).toEqual(['registry.test/app:1']);
    const conflict = { arn: arnOf('a'), owner: 'api', claimants: ['api', 'fleet'] };
    expect(statusOf(m, 'api')).toMatchObject({ tasks: [{ arn: arnOf('a'), state: 'applied' }], conflicts: [conflict] });
    expect(statusOf(m, 'fleet')).toMatchObject({ tasks: [{ arn: arnOf('a'), state: 'conflict', owner: 'api' }], conflicts: [conflict] });
    expect(engine.recorded.at(-1)).toEqual({ arn: arnOf('a'), source: 'api', conflicts: ['fleet'] });

    // The owner drops it: the contender's definition is applied (the fake refuses a changed one,
    // so the old task is gone first, as after its cleanup).
    engine.tasks.delete(arnOf('a'));
    await m.push('api', { op: 'REMOVE', arn: arnOf('a') });
    expect(engine.definitionCalls(arnOf('a')).map((d) => d.containers[0]!.image)).toEqual(['registry.test/app:1', 'registry.test/app:2']);
    expect(engine.stopCalls(arnOf('a'))).toBe(0);
    expect(engine.recorded.at(-1)).toEqual({ arn: arnOf('a'), source: 'fleet', conflicts: [] });
    expect(statusOf(m, 'fleet')).toMatchObject({ tasks: [{ arn: arnOf('a'), state: 'applied' }], conflicts: [] });
  });

  it('the other way round, and with the identical definition: still a conflict, still the first claimant', async () => {
    const { m, engine } = await merger();
    await m.push('fleet', { op: 'ADD', task: sourced(def('a')) });
    const outcome = await m.push('api', { op: 'ADD', task: sourced(def('a'), 'POST /v1/tasks') }, { force: true });
    expect(outcome.get(arnOf('a'))).toEqual({ kind: 'waiting', owner: 'fleet' });
    expect(engine.definitionCalls(arnOf('a'))).toHaveLength(1);
    expect(statusOf(m, 'api').tasks).toEqual([{ arn: arnOf('a'), origin: 'POST /v1/tasks', state: 'conflict', owner: 'fleet' }]);
    expect(statusOf(m, 'fleet').conflicts).toEqual([{ arn: arnOf('a'), owner: 'fleet', claimants: ['fleet', 'api'] }]);
    // The contender leaving ends the conflict without touching the task.
    await m.push('api', { op: 'REMOVE', arn: arnOf('a') });
    expect(engine.definitionCalls(arnOf('a'))).toHaveLength(1);
    expect(engine.stopCalls(arnOf('a'))).toBe(0);
    expect(engine.recorded.at(-1)).toEqual({ arn: arnOf('a'), source: 'fleet', conflicts: [] });
  });

  it('a task every source dropped is stopped once', async () => {
    const { m, engine } = await merger();
    await m.push('api', { op: 'ADD', task: sourced(def('a')) });
    await m.push('fleet', { op: 'ADD', task: sourced(def('a')) });
    await m.push('api', { op: 'REMOVE', arn: arnOf('a') });
    expect(engine.stopCalls(arnOf('a'))).toBe(0);
    await m.push('fleet', { op: 'SET', tasks: [] });
    expect(engine.stopCalls(arnOf('a'))).toBe(1);
  });
});

describe('SourceMerger: coalescing', () => {
  it('100 updates of one arn while the engine is busy give at most two engine calls, and the last one wins', async () => {
    const engine = new CountingEngine();
    const source = handSource('manifests');
    const { m } = await merger(new MemorySaver(), engine, [source]);
    engine.hold();
    source.sink!.update({ op: 'ADD', task: sourced(def('a', '1')) });
    while (engine.calls.length === 0) await new Promise((r) => setImmediate(r));
    // The first call is in flight; 99 more rewrites, each on its own turn.
    for (let i = 2; i <= 100; i++) {
      source.sink!.update({ op: 'ADD', task: sourced(def('a', String(i))) });
      await new Promise((r) => setImmediate(r));
    }
    engine.tasks.clear();
    engine.release();
    await m.idle();
    expect(engine.definitionCalls(arnOf('a')).map((d) => d.containers[0]!.image)).toEqual(['registry.test/app:1', 'registry.test/app:100']);
  });

  it('a burst over many arns asks the engine once per arn with its latest definition', async () => {
    const engine = new CountingEngine();
    const source = handSource('manifests');
    const { m } = await merger(new MemorySaver(), engine, [source]);
    for (let round = 1; round <= 10; round++) {
      source.sink!.update({ op: 'SET', tasks: Array.from({ length: 20 }, (_, i) => sourced(def(`t${i}`, String(round)))) });
    }
    await m.idle();
    for (let i = 0; i < 20; i++) expect(engine.definitionCalls(arnOf(`t${i}`)).map((d) => d.containers[0]!.image)).toEqual(['registry.test/app:10']);
  });
});

describe('SourceMerger: persistence', () => {
  const savers: Array<[string, () => { open: () => Saver; cleanup: () => void }]> = [
    [
      'memory',
      () => {
        const saver = new MemorySaver();
        // The same store across "restarts": closing it is what a stopped agent does.
        return { open: () => new Proxy(saver, { get: (t, p) => (p === 'close' ? async () => {} : (Reflect.get(t, p, t) as (...a: unknown[]) => unknown).bind(t)) }) as Saver, cleanup: () => {} };
      },
    ],
    [
      'sqlite',
      () => {
        const dir = scratch('berth-sources-');
        return { open: () => openSqliteSaver(dir.path), cleanup: dir.cleanup };
      },
    ],
  ];

  it.each(savers)('(%s) after a restart, the same SET asks nothing, a dropped task is stopped, the conflict order holds, the revision is kept', async (_name, make) => {
    const store = make();
    try {
      const first = store.open();
      const src = handSource('etcd');
      const one = await merger(first, new CountingEngine(), [src]);
      await one.m.push('api', { op: 'ADD', task: sourced(def('c')) });
      src.sink!.update({ op: 'SET', tasks: [sourced(def('a')), sourced(def('b')), sourced(def('c', '2'))], revision: '17' });
      await one.m.idle();
      await one.m.stop();
      await first.close();

      const engine = new CountingEngine();
      for (const t of one.engine.tasks.values()) engine.tasks.set(t.arn, t);
      const again = handSource('etcd');
      const two = await merger(store.open(), engine, [again]);
      expect(again.saved).toMatchObject({ revision: "17" });
      again.sink!.update({ op: 'SET', tasks: [sourced(def('a')), sourced(def('b')), sourced(def('c', '2'))], revision: '18' });
      await two.m.idle();
      expect(engine.calls).toEqual([]);
      expect(statusOf(two.m, 'etcd')).toMatchObject({ revision: '18', conflicts: [{ arn: arnOf('c'), owner: 'api', claimants: ['api', 'etcd'] }] });

      again.sink!.update({ op: 'SET', tasks: [sourced(def('a')), sourced(def('c', '2'))], revision: '19' });
      await two.m.idle();
      expect(engine.calls.map((c) => (c.kind === 'desired-status' ? `${c.desiredStatus} ${c.arn}` : `add ${c.task.arn}`))).toEqual([`STOPPED ${arnOf('b')}`]);
      expect((await two.saver.loadSources()).revisions).toEqual({ etcd: '19' });
      expect((await two.saver.loadSources()).tasks.map((t) => `${t.source} ${t.arn}`)).toEqual([`api ${arnOf('c')}`, `etcd ${arnOf('a')}`, `etcd ${arnOf('c')}`]);
    } finally {
      store.cleanup();
    }
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskState } from '../../../src/api/task.js';
import { openSqliteSaver, type SqliteSaver } from '../../../src/state/sqlite-saver.js';
import { taskAt } from '../../support/fixtures.js';

/**
 * What a commit writes, seen from the database: a trigger on a second connection records every
 * container row inserted or updated, so a test sees which rows a transition touched.
 */
describe('SqliteSaver writes', () => {
  let dir: string;
  let path: string;
  let saver: SqliteSaver;
  let raw: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-writes-'));
    path = join(dir, 'agent.db');
    saver = openSqliteSaver(path);
    raw = new Database(path);
    raw.exec(`
      CREATE TABLE written (name TEXT NOT NULL, how TEXT NOT NULL);
      CREATE TRIGGER on_insert AFTER INSERT ON containers BEGIN INSERT INTO written VALUES (new.name, 'insert'); END;
      CREATE TRIGGER on_update AFTER UPDATE ON containers BEGIN INSERT INTO written VALUES (new.name, 'update'); END;
    `);
  });

  afterEach(async () => {
    await saver.close();
    raw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const written = (): string[] => {
    const rows = raw.prepare<[], { name: string; how: string }>('SELECT name, how FROM written ORDER BY rowid').all();
    raw.exec('DELETE FROM written');
    return rows.map((r) => `${r.how} ${r.name}`);
  };
  const withContainer = (task: TaskState, name: string, change: Partial<TaskState['containers'][number]>): TaskState => ({
    ...task,
    containers: task.containers.map((c) => (c.definition.name === name ? { ...c, ...change } : c)),
  });

  it('writes only the container a transition changed, and the next load has every change', async () => {
    const task = taskAt({ a: 'RUNNING', b: 'RUNNING', c: 'CREATED' });
    await saver.commit({ put: [task] });
    expect(written()).toEqual(['insert a', 'insert b', 'insert c']);

    const started = withContainer(task, 'c', { knownStatus: 'RUNNING', startedAt: 2_000 });
    await saver.commit({ put: [started] });
    expect(written()).toEqual(['update c']);

    const stopped = withContainer(started, 'a', { knownStatus: 'STOPPED', exitCode: 3 });
    await saver.commit({ put: [stopped] });
    expect(written()).toEqual(['update a']);

    await saver.close();
    saver = openSqliteSaver(path);
    const [loaded] = await saver.loadTasks();
    expect(loaded).toEqual(stopped);
    // The loaded values are what is on disk: a change after a restart is written alone too.
    await saver.commit({ put: [withContainer(loaded!, 'b', { health: 'HEALTHY' })] });
    expect(written()).toEqual(['update b']);
  });

  it('rewrites every row when the containers change names or order (a new generation)', async () => {
    const task = taskAt({ a: 'RUNNING', b: 'RUNNING' });
    await saver.commit({ put: [task] });
    written();
    const reordered = { ...task, containers: [task.containers[1]!, task.containers[0]!] };
    await saver.commit({ put: [reordered] });
    expect(written()).toEqual(['insert b', 'insert a']);
    expect((await saver.loadTasks())[0]!.containers.map((c) => c.definition.name)).toEqual(['b', 'a']);
  });

  it('after a commit that failed, writes everything changed since the last one that succeeded', async () => {
    const task = taskAt({ a: 'RUNNING', b: 'RUNNING' });
    await saver.commit({ put: [task] });
    written();
    raw.exec(`CREATE TRIGGER refuse BEFORE UPDATE ON tasks BEGIN SELECT RAISE(ABORT, 'refused by test'); END;`);
    const changed = withContainer(task, 'a', { knownStatus: 'STOPPED', exitCode: 1 });
    await expect(saver.commit({ put: [changed] })).rejects.toThrow(/refused by test/);
    raw.exec('DROP TRIGGER refuse');
    expect(written()).toEqual([]);

    const again = withContainer(changed, 'b', { knownStatus: 'STOPPED', exitCode: 0 });
    await saver.commit({ put: [again] });
    expect(written()).toEqual(['update a', 'update b']);
    expect((await saver.loadTasks())[0]).toEqual(again);
  });
});

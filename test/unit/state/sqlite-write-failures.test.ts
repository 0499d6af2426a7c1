import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, expect, it } from 'vitest';
import { PersistenceError } from '../../../src/errors.js';
import Database from 'better-sqlite3';
import { toPersistenceError } from '../../../src/state/sql.js';
import { openSqliteSaver, type SqliteSaver } from '../../../src/state/sqlite-saver.js';
import { bareTask, event } from '../../contract/saver.contract.js';
import { scratch } from '../../support/sqlite-tamper.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
let dir: ReturnType<typeof scratch>;
let saver: SqliteSaver | undefined;
let holder: ChildProcess | undefined;
afterEach(async () => {
  holder?.kill('SIGKILL');
  await saver?.close();
  dir.cleanup();
});

/**
 * Another process takes the database's write lock and keeps it for `ms` (better-sqlite3 blocks
 * its thread while it waits for a lock, so the holder cannot live in this one). Resolves once held.
 */
async function holdWriteLock(path: string, ms: number): Promise<ChildProcess> {
  const code = `
    import Database from 'better-sqlite3';
    const db = new Database(${JSON.stringify(path)});
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); process.stdout.write('released\\n'); }, ${ms});
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  expect(chunk.toString()).toBe('locked\n');
  return child;
}

it('a write that meets a lock held shorter than busy_timeout waits for it and succeeds', async () => {
  dir = scratch('berth-busy-');
  saver = openSqliteSaver(dir.path, { busyTimeoutMs: 5_000 });
  holder = await holdWriteLock(dir.path, 300);
  const started = Date.now();
  const [saved] = await saver.commit({ put: [bareTask('arn:busy/a')], events: [event('arn:busy/a')] });
  expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  expect(saved!.seq).toBe(1);
});

it('a lock held past busy_timeout fails the write as a retryable SQLITE_BUSY that changes nothing; once it is released the retry succeeds', async () => {
  dir = scratch('berth-busy-');
  saver = openSqliteSaver(dir.path, { busyTimeoutMs: 50 });
  holder = await holdWriteLock(dir.path, 1_000);
  const failed = await saver.commit({ put: [bareTask('arn:busy/a')], events: [event('arn:busy/a')] }).catch((e: unknown) => e);
  expect(failed).toBeInstanceOf(PersistenceError);
  expect(failed).toMatchObject({ retryable: true, message: expect.stringContaining('SQLITE_BUSY') });
  expect(await saver.loadTasks()).toEqual([]);
  await once(holder.stdout!, 'data');
  const [saved] = await saver.commit({ put: [bareTask('arn:busy/a')], events: [event('arn:busy/a')] });
  expect(saved!.seq).toBe(1);
  expect((await saver.loadTasks()).map((t) => t.arn)).toEqual(['arn:busy/a']);
});

it('classifies the write errors a disk can recover from as retryable, using the errors SQLite really raises', async () => {
  dir = scratch('berth-readonly-');
  saver = openSqliteSaver(dir.path);
  await saver.commit({ put: [bareTask('arn:ro/a')] });
  // A read-only file or mount answers SQLITE_READONLY; an operator can make it writable again.
  const readonly = new Database(dir.path, { readonly: true });
  let raised: unknown;
  try {
    readonly.prepare("INSERT INTO meta (key, value) VALUES ('k', 'v')").run();
  } catch (error) {
    raised = error;
  } finally {
    readonly.close();
  }
  expect(raised).toMatchObject({ code: expect.stringMatching(/^SQLITE_READONLY/) });
  expect(toPersistenceError(raised, 'saving state')).toMatchObject({ retryable: true, message: expect.stringContaining('SQLITE_READONLY') });
  // A constraint violation is a bug, not weather: retrying cannot help.
  const constraint = Object.assign(new Error('CHECK constraint failed'), { code: 'SQLITE_CONSTRAINT_CHECK' });
  expect(toPersistenceError(constraint, 'saving state').retryable).toBe(false);
});

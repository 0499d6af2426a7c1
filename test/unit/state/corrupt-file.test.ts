import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PersistenceError } from '../../../src/errors.js';
import { latestSchemaVersion } from '../../../src/state/migrate.js';
import { openSqliteSaver, openStateReader, UnreadableStateError } from '../../../src/state/sqlite-saver.js';
import { bareTask, event, fullTask } from '../../contract/saver.contract.js';
import { fingerprint, rootPage, scratch } from '../../support/sqlite-tamper.js';

let dir: ReturnType<typeof scratch>;
beforeEach(() => {
  dir = scratch('berth-corrupt-');
});
afterEach(() => dir.cleanup());

/** A closed database with enough rows to span many pages; closing checkpoints the WAL into the file. */
async function populated(): Promise<Buffer> {
  const saver = openSqliteSaver(dir.path);
  const tasks = Array.from({ length: 40 }, (_, i) => ({ ...fullTask(`arn:berth:task/t-${i}`), family: `family-${i}` }));
  await saver.commit({ put: [...tasks, bareTask()], events: tasks.map((t) => event(t.arn)) });
  await saver.setMeta('agent-id', 'abc');
  await saver.close();
  expect(existsSync(`${dir.path}-wal`)).toBe(false);
  return readFileSync(dir.path);
}

const write = (bytes: Buffer): void => {
  mkdirSync(dirname(dir.path), { recursive: true });
  writeFileSync(dir.path, bytes);
};

function openError(): PersistenceError {
  try {
    openSqliteSaver(dir.path);
  } catch (err) {
    expect(err).toBeInstanceOf(PersistenceError);
    return err as PersistenceError;
  }
  throw new Error('openSqliteSaver accepted a damaged file');
}

function readError(): UnreadableStateError {
  try {
    openStateReader(dir.path).close();
  } catch (err) {
    expect(err).toBeInstanceOf(UnreadableStateError);
    return err as UnreadableStateError;
  }
  throw new Error('openStateReader accepted a damaged file');
}

const PAGE = 4096;
const damaged: Array<[string, (file: Buffer) => Buffer, RegExp]> = [
  ['cut to its first 1000 bytes', (file) => file.subarray(0, 1000), /SQLITE_CORRUPT/],
  ['cut in the middle of a page', (file) => file.subarray(0, Math.floor(file.length / PAGE / 2) * PAGE + PAGE / 2), /SQLITE_CORRUPT/],
  ['replaced by garbage bytes', (file) => randomBytes(file.length), /SQLITE_NOTADB/],
];

describe('openSqliteSaver on a damaged file', () => {
  it.each(damaged)('refuses a database %s, naming the file, and leaves it untouched', async (_label, damage, code) => {
    write(damage(await populated()));
    const before = fingerprint(dir.path);
    const error = openError();
    expect(error.message).toContain(`state database ${dir.path} is not a readable berth database`);
    expect(error.message).toMatch(code);
    expect(error.message).toMatch(/restore a backup/);
    expect(error.retryable).toBe(false);
    // Above all it must not "repair" the file into an empty database that forgets every task.
    expect(fingerprint(dir.path)).toBe(before);
    expect(() => openSqliteSaver(dir.path)).toThrow(error.message);
  });

  it('refuses a file whose pages are intact but one table is garbage, before any write', async () => {
    await populated();
    const { pageSize, page } = rootPage(dir.path, 'containers');
    const fd = openSync(dir.path, 'r+');
    writeSync(fd, randomBytes(pageSize), 0, pageSize, (page - 1) * pageSize);
    closeSync(fd);
    const before = fingerprint(dir.path);
    // SQLite may refuse the page outright or list what is wrong with it; either way, no open.
    expect(openError().message).toMatch(/is not a readable berth database \((integrity check found: |.*SQLITE_CORRUPT)/);
    expect(fingerprint(dir.path)).toBe(before);
  });

  it("refuses another program's SQLite database instead of adding berth's tables to it", () => {
    mkdirSync(dirname(dir.path), { recursive: true });
    const db = new Database(dir.path);
    db.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY, title TEXT)');
    db.close();
    const before = fingerprint(dir.path);
    expect(openError().message).toBe(`${dir.path} is not a berth state database: it has tables (photos) but no schema_migrations`);
    expect(fingerprint(dir.path)).toBe(before);
  });
});

describe('openStateReader on a damaged file says how far it could read', () => {
  it('a truncated file: the header, and that the schema could not be read', async () => {
    const file = await populated();
    write(file.subarray(0, 1000));
    const error = readError();
    expect(error.stages).toEqual([
      { stage: 'header', status: 'read', detail: `SQLite 3, page size ${PAGE}, ${file.length / PAGE} page(s) by its header, file 1000 bytes: shorter than the ${file.length} bytes the header describes (truncated?)` },
      { stage: 'schema version', status: 'failed', detail: expect.stringMatching(/SQLITE_CORRUPT/) },
      { stage: 'meta', status: 'not read', detail: '' },
      { stage: 'tasks', status: 'not read', detail: '' },
      { stage: 'images', status: 'not read', detail: '' },
      { stage: 'events', status: 'not read', detail: '' },
      { stage: 'integrity', status: 'not read', detail: '' },
    ]);
    expect(error.message).toMatch(new RegExp(`^state database ${dir.path} is not a readable berth database \\(.*SQLITE_CORRUPT\\)`));
    expect(error.message).toContain('\n  schema version  failed: ');
    expect(error.retryable).toBe(false);
  });

  it('garbage: no SQLite header at all', async () => {
    write(Buffer.from('not a database, just text; '.repeat(400)));
    const error = readError();
    expect(error.stages.slice(0, 2)).toEqual([
      { stage: 'header', status: 'failed', detail: 'the file (10800 bytes) does not start with an SQLite 3 header' },
      { stage: 'schema version', status: 'failed', detail: expect.stringMatching(/SQLITE_NOTADB/) },
    ]);
    expect(error.message).toMatch(/is not a readable berth database \(file is not a database, SQLITE_NOTADB\)/);
  });

  it('one damaged table: everything else is read and counted', async () => {
    await populated();
    const { pageSize, page } = rootPage(dir.path, 'containers');
    const fd = openSync(dir.path, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0xff), 0, pageSize, (page - 1) * pageSize);
    closeSync(fd);
    const size = statSync(dir.path).size;
    const error = readError();
    expect(error.stages).toEqual([
      { stage: 'header', status: 'read', detail: `SQLite 3, page size ${PAGE}, ${size / PAGE} page(s) by its header, file ${size} bytes` },
      { stage: 'schema version', status: 'read', detail: String(latestSchemaVersion()) },
      { stage: 'meta', status: 'read', detail: '1 key(s)' },
      { stage: 'tasks', status: 'failed', detail: expect.stringMatching(/SQLITE_CORRUPT/) },
      { stage: 'images', status: 'read', detail: '0 image(s)' },
      { stage: 'events', status: 'read', detail: '40 kept, last seq 40' },
      { stage: 'integrity', status: 'failed', detail: expect.stringMatching(/^integrity check found: |SQLITE_CORRUPT/) },
    ]);
  });
});

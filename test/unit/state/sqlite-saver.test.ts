import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PersistenceError, SchemaVersionError } from '../../../src/errors.js';
import {
  DEFAULT_MIGRATIONS_DIR,
  currentSchemaVersion,
  latestSchemaVersion,
  migrate,
} from '../../../src/state/migrate.js';
import { openSqliteSaver, openStateReader } from '../../../src/state/sqlite-saver.js';
import type { SqliteSaver } from '../../../src/state/sqlite-saver.js';
import { bareTask, describeSaverContract, event, fullTask } from '../../contract/saver.contract.js';

/** The newest shipped schema, and file names for one past it, so these tests outlive new migrations. */
const LATEST = latestSchemaVersion();
const NEXT = LATEST + 1;
const next = (name: string, version = NEXT): string => `${String(version).padStart(3, '0')}_${name}.sql`;

describeSaverContract('SqliteSaver', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-contract-'));
  const path = join(dir, 'state', 'agent.db');
  const opened: SqliteSaver[] = [openSqliteSaver(path)];
  return {
    saver: opened[0]!,
    reopen: async () => {
      opened.push(openSqliteSaver(path));
      return opened.at(-1)!;
    },
    cleanup: async () => {
      for (const saver of opened) await saver.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteSaver', () => {
  let dir: string;
  let path: string;
  const open: SqliteSaver[] = [];
  const raw: Database.Database[] = [];
  /** A second, plain connection: what another process (or an operator's sqlite3) would see. */
  const connect = (options?: Database.Options): Database.Database => {
    raw.push(new Database(path, options));
    return raw.at(-1)!;
  };
  const saverAt = (options?: Parameters<typeof openSqliteSaver>[1]): SqliteSaver => {
    open.push(openSqliteSaver(path, options));
    return open.at(-1)!;
  };
  /** A migrations directory holding the shipped migrations (unless `init` is empty) plus `extra` files. */
  const migrationsWith = (extra: Record<string, string>, init = '001_init.sql'): string => {
    const migrations = mkdtempSync(join(dir, 'migrations-'));
    if (init) {
      for (const file of readdirSync(DEFAULT_MIGRATIONS_DIR)) {
        copyFileSync(join(DEFAULT_MIGRATIONS_DIR, file), join(migrations, file === '001_init.sql' ? init : file));
      }
    }
    for (const [file, sql] of Object.entries(extra)) writeFileSync(join(migrations, file), sql);
    return migrations;
  };
  const fingerprint = (file: string): string =>
    `${statSync(file).mtimeMs}:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-sqlite-'));
    path = join(dir, 'state', 'agent.db');
  });
  afterEach(async () => {
    for (const saver of open.splice(0)) await saver.close();
    for (const db of raw.splice(0)) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a private directory and file, in WAL mode', async () => {
    await saverAt().commit({ put: [bareTask()] });
    expect(statSync(join(dir, 'state')).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(connect().pragma('journal_mode', { simple: true })).toBe('wal');
    expect(existsSync(`${path}-wal`)).toBe(true);
  });

  it('records applied migrations once, however often the database is reopened', async () => {
    await saverAt().close();
    const applied = connect({ readonly: true }).prepare('SELECT * FROM schema_migrations').all();
    const appliedAt = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
    expect(applied).toEqual([
      { version: 1, name: 'init', applied_at: appliedAt },
      { version: 2, name: 'event_retention', applied_at: appliedAt },
      { version: 3, name: 'quarantine', applied_at: appliedAt },
      { version: 4, name: 'extra_fields', applied_at: appliedAt },
      { version: 5, name: 'images', applied_at: appliedAt },
      { version: 6, name: 'sources', applied_at: appliedAt },
    ]);
    await saverAt().close();
    await saverAt().close();
    expect(connect({ readonly: true }).prepare('SELECT * FROM schema_migrations').all()).toEqual(applied);
    expect(migrate(connect())).toEqual({ from: LATEST, to: LATEST });
    expect(LATEST).toBe(6);
  });

  it('applies a newer migration to an existing database without cascading deletes', async () => {
    await saverAt().commit({ put: [fullTask()], events: [event('a')] });
    await open.pop()!.close();
    // Rebuilding `tasks` drops it; with foreign keys on that would delete every container.
    const { sql } = connect({ readonly: true }).prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'tasks'").get()!;
    const rebuild = `${sql.replace(/^CREATE TABLE "?tasks"?/, 'CREATE TABLE tasks_new')};`;
    const migrations = migrationsWith({
      [next('rebuild_tasks')]: `${rebuild}
        INSERT INTO tasks_new SELECT * FROM tasks;
        DROP TABLE tasks;
        ALTER TABLE tasks_new RENAME TO tasks;`,
    });
    const db = connect();
    db.pragma('foreign_keys = ON');
    expect(migrate(db, migrations)).toEqual({ from: LATEST, to: NEXT });
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const saver = saverAt({ migrationsDir: migrations });
    expect(await saver.loadTasks()).toStrictEqual([fullTask()]);
    await saver.commit({ remove: [fullTask().arn] });
    expect(connect().prepare('SELECT COUNT(*) AS n FROM containers').get()).toEqual({ n: 0 });
  });

  it('rolls a failing migration back, leaving the last good version', async () => {
    await saverAt().close();
    const migrations = migrationsWith({
      [next('broken')]: 'CREATE TABLE extra (x INTEGER); INSERT INTO no_such_table VALUES (1);',
    });
    expect(() => saverAt({ migrationsDir: migrations })).toThrow(
      new RegExp(`${next('broken').replace('.sql', '')} failed and was rolled back.*no_such_table`),
    );
    const db = connect();
    expect(currentSchemaVersion(db)).toBe(LATEST);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'extra'").get()).toBeUndefined();
  });

  it('refuses a database from a newer schema with SchemaVersionError, changing nothing', async () => {
    await saverAt().commit({ put: [bareTask()] });
    await open.pop()!.close();
    const future = connect();
    future.prepare("INSERT INTO schema_migrations VALUES (?, 'future', '2030-01-01T00:00:00Z')").run(NEXT);
    future.close();
    const before = fingerprint(path);

    let error: unknown;
    try {
      saverAt();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SchemaVersionError);
    expect(error).toMatchObject({ found: NEXT, supported: LATEST });
    expect((error as Error).message).toMatch(new RegExp(`schema version ${NEXT}.*supports up to ${LATEST}`));
    expect(fingerprint(path)).toBe(before);
    expect(() => openStateReader(path)).toThrow(SchemaVersionError);
  });

  it.each([
    ['a gap', { [next('next', NEXT + 1)]: 'SELECT 1;' }, '001_init.sql', new RegExp(`migration ${String(NEXT).padStart(3, '0')} is missing \\(next is ${next('next', NEXT + 1).replace('.', '\\.')}\\)`)],
    ['a duplicate version', { '001_again.sql': 'SELECT 1;' }, '001_init.sql', /001_again\.sql and 001_init\.sql both/],
    ['a misnamed file', { '2_next.sql': 'SELECT 1;' }, '001_init.sql', /2_next\.sql is not named NNN_name\.sql/],
    ['no migrations at all', { 'README.md': 'notes' }, '', /no NNN_name\.sql files/],
  ])('refuses a migrations directory with %s, before touching the database', (_label, extra, init, message) => {
    const migrations = migrationsWith(extra, init);
    expect(() => saverAt({ migrationsDir: migrations })).toThrow(PersistenceError);
    expect(() => saverAt({ migrationsDir: migrations })).toThrow(message);
    expect(currentSchemaVersion(connect())).toBe(0);
  });

  it('keeps lastSeq and keeps seqs rising after events are pruned', async () => {
    const saver = saverAt();
    const events = await saver.commit({ events: [event('a'), event('b'), event('c')] });
    connect().exec('DELETE FROM events');
    expect(await saver.lastSeq()).toBe(events[2]!.seq);
    expect(await saver.eventsAfter(0, 10)).toEqual([]);
    const [next] = await saver.commit({ events: [event('d')] });
    expect(next!.seq).toBe(events[2]!.seq + 1);
  });

  it('rolls back a commit that SQLite itself refuses midway', async () => {
    const saver = saverAt();
    const [first] = await saver.commit({ put: [fullTask()], events: [event('a')] });
    // A failure the up-front validation cannot foresee: only the transaction can undo the rest.
    connect().exec(`CREATE TRIGGER refuse_boom BEFORE INSERT ON events WHEN NEW.task_arn = 'boom'
                    BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    const commit = saver.commit({
      put: [bareTask()],
      remove: [fullTask().arn],
      events: [event('ok'), event('boom')],
    });
    await expect(commit).rejects.toThrow(PersistenceError);
    await expect(commit).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/injected/) });
    expect(await saver.loadTasks()).toEqual([fullTask()]);
    expect(await saver.eventsAfter(0, 10)).toEqual([first]);
    const [next] = await saver.commit({ events: [event('ok')] });
    expect(next!.seq).toBe(first!.seq + 1);
  });

  it('has the schema itself refuse invalid statuses and unpaired reasons', async () => {
    await saverAt().close();
    const db = connect();
    const insertEvent = "INSERT INTO events (type, task_arn, status, at) VALUES ('task', 'a', ?, 'now')";
    expect(() => db.prepare(insertEvent).run('EXPLODED')).toThrow(/CHECK constraint failed/);
    db.prepare("INSERT INTO tasks (arn, family, version, desired_status, known_status, created_at, updated_at) VALUES ('t', 'f', '1', 'RUNNING', 'NONE', 1, 1)").run();
    expect(() => db.prepare("UPDATE tasks SET desired_status = 'PAUSED'").run()).toThrow(/CHECK constraint failed/);
    // `extra` holds a JSON object in every table, and a task's rules version counts from 1.
    expect(() => db.prepare("UPDATE tasks SET extra = '[]'").run()).toThrow(/CHECK constraint failed/);
    expect(() => db.prepare("UPDATE tasks SET extra = 'not json'").run()).toThrow(/CHECK constraint failed/);
    expect(() => db.prepare('UPDATE tasks SET rules = 0').run()).toThrow(/CHECK constraint failed/);
    expect(() => db.prepare("INSERT INTO events (type, task_arn, status, at, extra) VALUES ('task', 'a', 'NONE', 'now', '\"x\"')").run()).toThrow(/CHECK constraint failed/);
    expect(() => db.prepare("INSERT INTO containers (task_arn, name, position, definition, docker_name, desired_status, known_status, extra) VALUES ('t', 'c', 0, '{}', 'd', 'RUNNING', 'NONE', '[]')").run()).toThrow(/CHECK constraint failed/);
    const insertContainer = `INSERT INTO containers (task_arn, name, position, definition, docker_name,
      desired_status, known_status, reason_code, reason_message) VALUES ('t', 'c', 0, '{}', 'd', 'RUNNING', ?, ?, NULL)`;
    expect(() => db.prepare(insertContainer).run('WAITING', null)).toThrow(/CHECK constraint failed/);
    expect(() => db.prepare(insertContainer).run('NONE', 'ContainerExited')).toThrow(/CHECK constraint failed/);
  });

  it('rolls back a commit that fills the disk midway, and carries on once there is room', async () => {
    // The saver's own connection, to cap its size: SQLite's max_page_count is per connection, and
    // hitting it fails the write exactly as a full disk does (SQLITE_FULL), mid-transaction.
    const pragma = Database.prototype.pragma;
    let own: Database.Database | undefined;
    const spy = vi.spyOn(Database.prototype, 'pragma').mockImplementation(function (this: Database.Database, ...args) {
      own ??= this;
      return pragma.apply(this, args);
    });
    const saver = saverAt();
    spy.mockRestore();
    const baseline = await saver.commit({ put: [fullTask()], events: [event('a')] });
    own!.pragma(`max_page_count = ${own!.pragma('page_count', { simple: true }) as number}`);

    const big: Parameters<SqliteSaver['commit']>[0] = {
      put: Array.from({ length: 50 }, (_, i) => bareTask(`arn:berth:task/big-${i}`)),
      remove: [fullTask().arn],
      events: Array.from({ length: 200 }, (_, i) => event(`arn:berth:task/big-${i}`, { reasonMessage: 'x'.repeat(200) })),
    };
    const full = saver.commit(big);
    await expect(full).rejects.toThrow(PersistenceError);
    await expect(full).rejects.toMatchObject({ retryable: true, message: expect.stringMatching(/SQLITE_FULL/) });
    expect(await saver.loadTasks()).toStrictEqual([fullTask()]);
    expect(await saver.eventsAfter(0, 1000)).toEqual(baseline);
    expect(await saver.lastSeq()).toBe(baseline[0]!.seq);

    own!.pragma('max_page_count = 1073741823');
    const retried = await saver.commit(big);
    expect(retried.map((e) => e.seq)).toEqual(big.events!.map((_, i) => baseline[0]!.seq + 1 + i));
    expect(await saver.loadTasks()).toHaveLength(50);
    await saver.close();
    expect(await saverAt().loadTasks()).toHaveLength(50);
  });

  it('fails a write as retryable while another connection holds the write lock', async () => {
    const saver = saverAt({ busyTimeoutMs: 50 });
    const other = connect();
    other.exec('BEGIN IMMEDIATE');
    const blocked = saver.commit({ put: [bareTask()] });
    await expect(blocked).rejects.toThrow(PersistenceError);
    await expect(blocked).rejects.toMatchObject({ retryable: true, message: expect.stringMatching(/SQLITE_BUSY/) });
    other.exec('ROLLBACK');
    await saver.commit({ put: [bareTask()] });
    expect(await saver.loadTasks()).toEqual([bareTask()]);
  });

  describe('openStateReader', () => {
    it('reads a snapshot while the agent has the database open, without writing to it', async () => {
      const saver = saverAt();
      const events = await saver.commit({ put: [fullTask(), bareTask()], events: [event('a'), event('b')] });
      connect().exec(`DELETE FROM events WHERE seq = ${events[1]!.seq}`);
      await saver.setMeta('agent-id', 'abc');
      const before = [fingerprint(path), fingerprint(`${path}-wal`)];

      const reader = openStateReader(path);
      expect(reader).toMatchObject({ schemaVersion: LATEST, meta: { 'agent-id': 'abc' }, eventCount: 1 });
      // The newest event was pruned (eventCount 1), yet lastSeq still reports it.
      expect(reader.lastSeq).toBe(events[1]!.seq);
      expect(reader.tasks).toStrictEqual(await saver.loadTasks());
      reader.close();

      expect([fingerprint(path), fingerprint(`${path}-wal`)]).toEqual(before);
      // The reader held no lock the agent needs.
      await saver.commit({ remove: [bareTask().arn] });
    });

    it('reads a database the agent closed, which the agent can then open as usual', async () => {
      await saverAt().commit({ put: [fullTask()] });
      await open.pop()!.close();
      const before = fingerprint(path);
      const reader = openStateReader(path);
      expect(reader.tasks).toStrictEqual([fullTask()]);
      reader.close();
      expect(fingerprint(path)).toBe(before);
      expect(await saverAt().loadTasks()).toStrictEqual([fullTask()]);
    });

    it('refuses a missing file, naming it, and does not create it', () => {
      expect(() => openStateReader(path)).toThrow(PersistenceError);
      expect(() => openStateReader(path)).toThrow(path);
      expect(existsSync(path)).toBe(false);
    });

    it('refuses a file that is not a database, leaving it as it was', () => {
      mkdirSync(join(dir, 'state'));
      writeFileSync(path, Buffer.from('this is not an SQLite database, just bytes '.repeat(200)));
      const before = fingerprint(path);
      expect(() => openStateReader(path)).toThrow(PersistenceError);
      expect(() => openStateReader(path)).toThrow(`state database ${path} is not a readable berth database`);
      expect(fingerprint(path)).toBe(before);
    });

    it('never migrates: an SQLite file without the schema is refused and left empty', () => {
      mkdirSync(join(dir, 'state'));
      new Database(path).close();
      expect(() => openStateReader(path)).toThrow(/not a berth state database \(no schema\)/);
      expect(statSync(path).size).toBe(0);
    });
  });
});

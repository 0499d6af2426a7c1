import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { StateChange } from '../api/events.js';
import type { TaskState } from '../api/task.js';
import { BerthError, PersistenceError, SchemaVersionError, errorMessage } from '../errors.js';
import { currentSchemaVersion, latestSchemaVersion, migrate } from './migrate.js';
import { checkCommit, checkMeta, checkPaging, checkRetention, eventToRow, rowsToTask, rowToEvent, taskToRows } from './rows.js';
import type { ContainerRow, EventRow, NewEventRow, TaskRow } from './rows.js';
import type { EventRetention, Saver, StateCommit } from './saver.js';

export interface SqliteSaverOptions {
  /** Defaults to the repo's `migrations/`. */
  readonly migrationsDir?: string | URL;
  /** How long a write waits for another connection's lock before failing as retryable. */
  readonly busyTimeoutMs?: number;
}

/**
 * Opens (creating it if needed) the state database at `path` and brings its schema up to date.
 * Throws SchemaVersionError, without changing the file, when a newer agent wrote it.
 */
export function openSqliteSaver(path: string, options: SqliteSaverOptions = {}): SqliteSaver {
  try {
    // Task definitions carry environment variables, which routinely hold secrets.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  } catch (err) {
    throw toPersistenceError(err, `creating state database ${path}`);
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') {
      throw new PersistenceError(`state database ${path} cannot use WAL (journal mode stays ${String(mode)})`);
    }
    // WAL's default (NORMAL) may lose the last commits on power loss; an acknowledged commit must not be.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, options.migrationsDir);
    return new SqliteSaver(db, path);
  } catch (err) {
    db?.close();
    throw err instanceof BerthError ? err : toPersistenceError(err, `opening state database ${path}`);
  }
}

/** The Saver the agent runs on. Create it with openSqliteSaver, which configures and migrates. */
export class SqliteSaver implements Saver {
  readonly #db: Database.Database;
  readonly #path: string;
  readonly #read: ReturnType<typeof readStatements>;
  readonly #write: ReturnType<typeof writeStatements>;
  readonly #commit: Database.Transaction<(commit: StateCommit) => StateChange[]>;
  readonly #prune: Database.Transaction<(policy: EventRetention) => number>;
  #closed = false;

  constructor(db: Database.Database, path: string) {
    this.#db = db;
    this.#path = path;
    this.#read = readStatements(db);
    const write = (this.#write = writeStatements(db));
    this.#commit = db.transaction((commit: StateCommit) => {
      for (const arn of commit.remove ?? []) write.deleteTask.run(arn);
      for (const task of commit.put ?? []) {
        const rows = taskToRows(task);
        write.upsertTask.run(rows.task);
        write.deleteContainers.run(task.arn);
        for (const row of rows.containers) write.insertContainer.run(row);
      }
      return (commit.events ?? []).map((event) => {
        const row = eventToRow(event);
        const seq = Number(write.insertEvent.run(row).lastInsertRowid);
        return rowToEvent({ ...row, seq });
      });
    });
    this.#prune = db.transaction((policy: EventRetention) => {
      const byCount = write.pruneBeyondCount.run(policy.keepLast).changes;
      return byCount + write.pruneOlderThan.run(policy.olderThan).changes;
    });
  }

  async loadTasks(): Promise<TaskState[]> {
    return this.#run('loading tasks', () => loadTasks(this.#read));
  }

  async commit(commit: StateCommit): Promise<StateChange[]> {
    this.#assertOpen();
    checkCommit(commit);
    // IMMEDIATE takes the write lock up front, so a busy database waits in busy_timeout instead
    // of failing mid-transaction when a read lock cannot be upgraded.
    return this.#run('saving state', () => this.#commit.immediate(commit));
  }

  async eventsAfter(after: number, limit: number): Promise<StateChange[]> {
    checkPaging(after, limit);
    return this.#run('reading events', () => this.#read.eventsAfter.all(after, limit).map(rowToEvent));
  }

  async lastSeq(): Promise<number> {
    return this.#run('reading the last event seq', () => lastSeq(this.#read));
  }

  async oldestSeq(): Promise<number | undefined> {
    return this.#run('reading the oldest event seq', () => this.#read.oldestSeq.get()?.seq ?? undefined);
  }

  async pruneEvents(policy: EventRetention): Promise<number> {
    checkRetention(policy);
    return this.#run('pruning events', () =>
      this.#prune.immediate(policy),
    );
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.#run(`reading meta ${key}`, () => this.#read.getMeta.get(key)?.value);
  }

  async setMeta(key: string, value: string): Promise<void> {
    checkMeta(key, value);
    this.#run(`writing meta ${key}`, () => void this.#write.setMeta.run(key, value));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#db.close();
    } catch (err) {
      throw toPersistenceError(err, `closing state database ${this.#path}`);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new PersistenceError(`state database ${this.#path} is closed`);
  }

  #run<T>(action: string, fn: () => T): T {
    this.#assertOpen();
    try {
      return fn();
    } catch (err) {
      throw toPersistenceError(err, `${action} in ${this.#path}`);
    }
  }
}

/** What `agent state dump` shows: a consistent snapshot, read without ever writing the file. */
export interface StateReader {
  readonly schemaVersion: number;
  readonly meta: Record<string, string>;
  readonly tasks: TaskState[];
  readonly lastSeq: number;
  readonly eventCount: number;
  close(): void;
}

/**
 * Opens the state database read-only (safe while the agent runs: WAL lets readers and the writer
 * coexist) and takes a snapshot. Never creates, migrates or otherwise writes the database.
 */
export function openStateReader(path: string, options: { migrationsDir?: string | URL } = {}): StateReader {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    if (!existsSync(path)) throw new PersistenceError(`no state database at ${path}`, { cause: err });
    throw toPersistenceError(err, `opening state database ${path}`);
  }
  try {
    const supported = latestSchemaVersion(options.migrationsDir);
    const read = db.transaction(() => {
      const schemaVersion = currentSchemaVersion(db);
      if (schemaVersion === 0) throw new PersistenceError(`${path} is not a berth state database (no schema)`);
      if (schemaVersion > supported) throw new SchemaVersionError(schemaVersion, supported);
      if (schemaVersion < supported) {
        throw new PersistenceError(
          `${path} has schema version ${schemaVersion} but this agent reads version ${supported}; ` +
            'start the agent once to migrate it',
        );
      }
      const statements = readStatements(db);
      return {
        schemaVersion,
        meta: Object.fromEntries(statements.allMeta.all().map((r) => [r.key, r.value])),
        tasks: loadTasks(statements),
        lastSeq: lastSeq(statements),
        eventCount: statements.eventCount.get()?.count ?? 0,
      };
    });
    const snapshot = read();
    return { ...snapshot, close: () => db.close() };
  } catch (err) {
    db.close();
    if (err instanceof BerthError) throw err;
    const notADatabase = err instanceof Database.SqliteError && err.code === 'SQLITE_NOTADB';
    if (notADatabase) {
      throw new PersistenceError(`${path} is not a berth state database: ${err.message}`, { cause: err });
    }
    throw toPersistenceError(err, `reading state database ${path}`);
  }
}

const TASK_COLUMNS = [
  'arn', 'family', 'version', 'desired_status', 'known_status',
  'created_at', 'updated_at', 'stopped_at', 'cleaned_up',
] as const satisfies readonly (keyof TaskRow)[];
const CONTAINER_COLUMNS = [
  'task_arn', 'name', 'position', 'definition', 'docker_name', 'docker_id', 'desired_status',
  'known_status', 'exit_code', 'reason_code', 'reason_message', 'port_bindings',
  'created_at', 'started_at', 'finished_at',
] as const satisfies readonly (keyof ContainerRow)[];
const EVENT_COLUMNS = [
  'type', 'task_arn', 'container_name', 'docker_id', 'status', 'exit_code',
  'reason', 'reason_message', 'port_bindings', 'at',
] as const satisfies readonly (keyof NewEventRow)[];

const list = (columns: readonly string[], prefix = ''): string => columns.map((c) => prefix + c).join(', ');

function readStatements(db: Database.Database) {
  return {
    tasks: db.prepare<[], TaskRow>(`SELECT ${list(TASK_COLUMNS)} FROM tasks ORDER BY created_at, arn`),
    containers: db.prepare<[], ContainerRow>(
      `SELECT ${list(CONTAINER_COLUMNS)} FROM containers ORDER BY task_arn, position`,
    ),
    eventsAfter: db.prepare<[number, number], EventRow>(
      `SELECT seq, ${list(EVENT_COLUMNS)} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`,
    ),
    // The AUTOINCREMENT high-water mark: unlike MAX(seq), it survives deleting the newest events.
    lastSeq: db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
    eventCount: db.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM events'),
    oldestSeq: db.prepare<[], { seq: number | null }>('SELECT MIN(seq) AS seq FROM events'),
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    allMeta: db.prepare<[], { key: string; value: string }>('SELECT key, value FROM meta ORDER BY key'),
  };
}

function writeStatements(db: Database.Database) {
  const taskUpdates = TASK_COLUMNS.filter((c) => c !== 'arn').map((c) => `${c} = excluded.${c}`);
  return {
    // An upsert, not INSERT OR REPLACE: REPLACE deletes the old row first, firing the cascade.
    upsertTask: db.prepare<TaskRow>(
      `INSERT INTO tasks (${list(TASK_COLUMNS)}) VALUES (${list(TASK_COLUMNS, '@')})
       ON CONFLICT (arn) DO UPDATE SET ${taskUpdates.join(', ')}`,
    ),
    deleteTask: db.prepare<[string]>('DELETE FROM tasks WHERE arn = ?'),
    deleteContainers: db.prepare<[string]>('DELETE FROM containers WHERE task_arn = ?'),
    insertContainer: db.prepare<ContainerRow>(
      `INSERT INTO containers (${list(CONTAINER_COLUMNS)}) VALUES (${list(CONTAINER_COLUMNS, '@')})`,
    ),
    insertEvent: db.prepare<NewEventRow>(
      `INSERT INTO events (${list(EVENT_COLUMNS)}) VALUES (${list(EVENT_COLUMNS, '@')})`,
    ),
    // Everything at or below the (keepLast+1)-th newest seq; nothing when fewer are kept.
    pruneBeyondCount: db.prepare<[number]>(
      'DELETE FROM events WHERE seq <= (SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?)',
    ),
    // Seqs rise with time, so everything up to the newest too-old event goes (uses events_at).
    pruneOlderThan: db.prepare<[string]>('DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events WHERE at < ?)'),
    setMeta: db.prepare<[string, string]>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
  };
}

function loadTasks(read: ReturnType<typeof readStatements>): TaskState[] {
  const containers = new Map<string, ContainerRow[]>();
  for (const row of read.containers.all()) {
    const rows = containers.get(row.task_arn);
    if (rows) rows.push(row);
    else containers.set(row.task_arn, [row]);
  }
  return read.tasks.all().map((row) => rowsToTask(row, containers.get(row.arn) ?? []));
}

function lastSeq(read: ReturnType<typeof readStatements>): number {
  return read.lastSeq.get()?.seq ?? 0;
}

const RETRYABLE = /^SQLITE_(BUSY|LOCKED|IOERR)(_|$)|^SQLITE_FULL$/;

/** Lock contention, a full disk and I/O errors can clear up; a constraint or corruption cannot. */
export function toPersistenceError(err: unknown, action: string): PersistenceError {
  if (err instanceof PersistenceError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const sqliteCode = typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
  return new PersistenceError(`${action} failed: ${errorMessage(err)}${sqliteCode ? ` (${sqliteCode})` : ''}`, {
    cause: err,
    retryable: sqliteCode !== undefined && RETRYABLE.test(sqliteCode),
  });
}

import type Database from 'better-sqlite3';
import { PersistenceError, errorMessage } from '../errors.js';
import { CONTAINER, CONTAINER_KEYS, EVENT, IMAGE, TASK } from './records.js';
import type { EventRow, Row } from './rows.js';
import type { SourceTaskRow } from './source-rows.js';

/* The statements the SQLite saver and the read-only reader share, and how their errors are told apart. */

/** Every column of each table, in the order of records.ts. */
export const TASK_COLUMNS = TASK.columns;
export const CONTAINER_COLUMNS = [...CONTAINER_KEYS, ...CONTAINER.columns];
export const EVENT_COLUMNS = EVENT.columns;
export const IMAGE_COLUMNS = IMAGE.columns;

const list = (columns: readonly string[], prefix = ''): string => columns.map((c) => prefix + c).join(', ');

export type ReadStatements = ReturnType<typeof readStatements>;

export function readStatements(db: Database.Database) {
  return {
    tasks: db.prepare<[], Row>(`SELECT ${list(TASK_COLUMNS)} FROM tasks ORDER BY created_at, arn`),
    containers: db.prepare<[], Row>(
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
    quarantinedArns: db.prepare<[], { arn: string }>('SELECT DISTINCT arn FROM quarantine ORDER BY arn'),
    images: db.prepare<[], Row>(`SELECT ${list(IMAGE_COLUMNS)} FROM images ORDER BY ref`),
    allMeta: db.prepare<[], { key: string; value: string }>('SELECT key, value FROM meta ORDER BY key'),
    sourceTasks: db.prepare<[], SourceTaskRow>('SELECT source, arn, origin, claim, definition FROM source_tasks ORDER BY source, arn'),
    sourceRevisions: db.prepare<[], { name: string; revision: string }>('SELECT name, revision FROM sources ORDER BY name'),
  };
}

export function writeStatements(db: Database.Database) {
  const taskUpdates = TASK_COLUMNS.filter((c) => c !== 'arn').map((c) => `${c} = excluded.${c}`);
  const containerUpdates = CONTAINER_COLUMNS.filter((c) => c !== 'task_arn' && c !== 'name').map((c) => `${c} = @${c}`);
  return {
    // An upsert, not INSERT OR REPLACE: REPLACE deletes the old row first, firing the cascade.
    upsertTask: db.prepare<Row>(
      `INSERT INTO tasks (${list(TASK_COLUMNS)}) VALUES (${list(TASK_COLUMNS, '@')})
       ON CONFLICT (arn) DO UPDATE SET ${taskUpdates.join(', ')}`,
    ),
    deleteTask: db.prepare<[string]>('DELETE FROM tasks WHERE arn = ?'),
    deleteContainers: db.prepare<[string]>('DELETE FROM containers WHERE task_arn = ?'),
    insertContainer: db.prepare<Row>(
      `INSERT INTO containers (${list(CONTAINER_COLUMNS)}) VALUES (${list(CONTAINER_COLUMNS, '@')})`,
    ),
    // One container of a task whose containers keep their names and positions.
    updateContainer: db.prepare<Row>(
      `UPDATE containers SET ${containerUpdates.join(', ')} WHERE task_arn = @task_arn AND name = @name`,
    ),
    insertEvent: db.prepare<Row>(
      `INSERT INTO events (${list(EVENT_COLUMNS)}) VALUES (${list(EVENT_COLUMNS, '@')})`,
    ),
    // Everything at or below the (keepLast+1)-th newest seq; nothing when fewer are kept.
    // The second bound keeps what a route has yet to deliver.
    pruneBeyondCount: db.prepare<[number, number]>(
      'DELETE FROM events WHERE seq <= (SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?) AND seq <= ?',
    ),
    // Seqs rise with time, so everything up to the newest too-old event goes (uses events_at).
    pruneOlderThan: db.prepare<[string, number]>('DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events WHERE at < ?) AND seq <= ?'),
    upsertImage: db.prepare<Row>(
      `INSERT INTO images (${list(IMAGE_COLUMNS)}) VALUES (${list(IMAGE_COLUMNS, '@')})
       ON CONFLICT (ref) DO UPDATE SET ${IMAGE_COLUMNS.filter((c) => c !== 'ref').map((c) => `${c} = excluded.${c}`).join(', ')}`,
    ),
    deleteImage: db.prepare<[string]>('DELETE FROM images WHERE ref = ?'),
    upsertSourceTask: db.prepare<SourceTaskRow>(
      `INSERT INTO source_tasks (source, arn, origin, claim, definition) VALUES (@source, @arn, @origin, @claim, @definition)
       ON CONFLICT (source, arn) DO UPDATE SET origin = excluded.origin, claim = excluded.claim, definition = excluded.definition`,
    ),
    deleteSourceTask: db.prepare<[string, string]>('DELETE FROM source_tasks WHERE source = ? AND arn = ?'),
    setSourceRevision: db.prepare<[string, string]>(
      'INSERT INTO sources (name, revision) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET revision = excluded.revision',
    ),
    setMeta: db.prepare<[string, string]>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
  };
}

export function lastSeq(read: ReadStatements): number {
  return read.lastSeq.get()?.seq ?? 0;
}

export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

const RETRYABLE = /^SQLITE_(BUSY|LOCKED|IOERR|READONLY)(_|$)|^SQLITE_FULL$/;
const CORRUPT = /^SQLITE_(CORRUPT|NOTADB)(_|$)/;

/** The file itself is damaged or is not SQLite: no retry and no migration can help. */
export function isCorruption(err: unknown): boolean {
  const code = sqliteCode(err);
  return code !== undefined && CORRUPT.test(code);
}

/** Lock contention, a full disk, a read-only mount and I/O errors can clear up; a constraint or corruption cannot. */
export function toPersistenceError(err: unknown, action: string): PersistenceError {
  if (err instanceof PersistenceError) return err;
  const code = sqliteCode(err);
  return new PersistenceError(`${action} failed: ${errorMessage(err)}${code ? ` (${code})` : ''}`, {
    cause: err,
    retryable: code !== undefined && RETRYABLE.test(code),
  });
}

/**
 * The one message for a damaged file, whoever finds it. It says what to do because the agent
 * cannot do it itself: starting over on an empty file would forget every task it runs.
 */
export function notReadableError(path: string, detail: string, cause?: unknown): PersistenceError {
  return new PersistenceError(
    `state database ${path} is not a readable berth database (${detail}); ` +
      'restore a backup, or move it (with its -wal and -shm files) aside to start with an empty state',
    { cause, retryable: false },
  );
}

/**
 * Damage to the file's structure (pages, b-trees, free list), from SQLite's quick_check; empty when
 * there is none. Rows that break a CHECK are left out: they are a task's problem, which loading
 * quarantines, not the file's.
 */
export function structuralDamage(db: Database.Database): string[] {
  const ignoring = db.pragma('ignore_check_constraints', { simple: true }) as number;
  db.pragma('ignore_check_constraints = ON');
  try {
    const found = (db.pragma('quick_check') as Array<{ quick_check: string }>).map((r) => r.quick_check);
    return found[0] === 'ok' ? [] : found;
  } finally {
    db.pragma(`ignore_check_constraints = ${ignoring ? 'ON' : 'OFF'}`);
  }
}

export function corruptionDetail(err: unknown): string {
  const code = sqliteCode(err);
  return `${errorMessage(err)}${code ? `, ${code}` : ''}`;
}

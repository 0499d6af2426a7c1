import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { ImageRecord } from '../api/image-record.js';
import type { TaskState } from '../api/task.js';
import { BerthError, PersistenceError, SchemaVersionError } from '../errors.js';
import { decodeTasks, type LoadProblem } from './decode.js';
import { currentSchemaVersion, latestSchemaVersion } from './migrate.js';
import { readQuarantine, type QuarantinedEntry } from './quarantine.js';
import { rowToImage } from './rows.js';
import type { SavedSources } from './saver.js';
import { rowToSourceTask } from './source-rows.js';
import { corruptionDetail, isCorruption, lastSeq, notReadableError, readStatements, structuralDamage, toPersistenceError } from './sql.js';

/** What `agent state dump` shows: a consistent snapshot, read without ever writing the file. */
export interface StateReader {
  readonly schemaVersion: number;
  readonly meta: Record<string, string>;
  /** Every task that decodes; the ones that do not are in `problems` instead. */
  readonly tasks: TaskState[];
  /** Rows the agent will quarantine at its next start (the reader itself never moves them). */
  readonly problems: LoadProblem[];
  /** Rows the agent already quarantined. */
  readonly quarantined: QuarantinedEntry[];
  /** The images the agent tracks (pulled or used), by ref. */
  readonly images: ImageRecord[];
  /** Each task source's saved set and revision (src/sources/). */
  readonly sources: SavedSources;
  readonly lastSeq: number;
  readonly eventCount: number;
  close(): void;
}

export const READ_STAGES = ['header', 'schema version', 'meta', 'tasks', 'images', 'events', 'integrity'] as const;
export type ReadStage = (typeof READ_STAGES)[number];

export interface StageOutcome {
  readonly stage: ReadStage;
  readonly status: 'read' | 'failed' | 'not read';
  readonly detail: string;
}

/**
 * The file could be opened but not (fully) read. `stages` says how far reading got, so an operator
 * deciding between repair and restore knows what the file still holds.
 */
export class UnreadableStateError extends PersistenceError {
  constructor(
    readonly path: string,
    readonly stages: readonly StageOutcome[],
    cause: unknown,
  ) {
    const headline = isCorruption(cause)
      ? notReadableError(path, corruptionDetail(cause)).message
      : toPersistenceError(cause, `reading state database ${path}`).message;
    const lines = stages.map((s) => `  ${s.stage.padEnd(15)} ${s.status}${s.detail ? `: ${s.detail}` : ''}`);
    super([headline, ...lines].join('\n'), { cause, retryable: false });
  }
}

/**
 * Opens the state database read-only (safe while the agent runs: WAL lets readers and the writer
 * coexist) and takes a snapshot. Never creates, migrates, quarantines or otherwise writes the file.
 * Each part is read on its own, so a damaged file is described part by part instead of in one error.
 */
export function openStateReader(path: string, options: { migrationsDir?: string | URL } = {}): StateReader {
  const outcomes = new Map<ReadStage, StageOutcome>();
  const failures: unknown[] = [];
  const stage = <T>(name: ReadStage, read: () => { value: T; detail: string }): T | undefined => {
    try {
      const { value, detail } = read();
      outcomes.set(name, { stage: name, status: 'read', detail });
      return value;
    } catch (err) {
      // Not a damaged file but a wrong one: those have their own, plainer message.
      if (err instanceof BerthError && !(err instanceof UnreadableStateError)) throw err;
      outcomes.set(name, { stage: name, status: 'failed', detail: corruptionDetail(err) });
      failures.push(err);
      return undefined;
    }
  };

  if (!existsSync(path)) throw new PersistenceError(`no state database at ${path}`);
  stage('header', () => ({ value: undefined, detail: describeHeader(path) }));

  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    if (!existsSync(path)) throw new PersistenceError(`no state database at ${path}`, { cause: err });
    throw toPersistenceError(err, `opening state database ${path}`);
  }
  try {
    const supported = latestSchemaVersion(options.migrationsDir);
    // One read transaction: every part comes from the same snapshot even while the agent writes.
    db.exec('BEGIN');
    const schema = stage('schema version', () => {
      const version = currentSchemaVersion(db);
      if (version === 0) throw new PersistenceError(`${path} is not a berth state database (no schema)`);
      if (version > supported) throw new SchemaVersionError(version, supported);
      if (version < supported) {
        throw new PersistenceError(
          `${path} has schema version ${version} but this agent reads version ${supported}; ` +
            'start the agent once to migrate it',
        );
      }
      return { value: { version, read: readStatements(db) }, detail: `${version}` };
    });
    const read = schema?.read;
    const meta = read && stage('meta', () => {
      const rows = read.allMeta.all();
      return { value: Object.fromEntries(rows.map((r) => [r.key, r.value])), detail: `${rows.length} key(s)` };
    });
    const tasks = read && stage('tasks', () => {
      const decoded = decodeTasks(read.tasks.all(), read.containers.all());
      const quarantined = readQuarantine(db);
      const sources: SavedSources = {
        tasks: read.sourceTasks.all().flatMap((row) => rowToSourceTask(row) ?? []),
        revisions: Object.fromEntries(read.sourceRevisions.all().map((r) => [r.name, r.revision])),
      };
      const extra = [
        decoded.problems.length > 0 && `${decoded.problems.length} with problems`,
        quarantined.length > 0 && `${quarantined.length} quarantined earlier`,
      ].filter(Boolean);
      return {
        value: { ...decoded, quarantined, sources },
        detail: `${decoded.tasks.length} task(s)${extra.length ? ` (${extra.join(', ')})` : ''}`,
      };
    });
    const images = read && stage('images', () => {
      const value = read.images.all().flatMap((row) => rowToImage(row) ?? []);
      return { value, detail: `${value.length} image(s)` };
    });
    const events = read && stage('events', () => {
      const value = { lastSeq: lastSeq(read), eventCount: read.eventCount.get()?.count ?? 0 };
      return { value, detail: `${value.eventCount} kept, last seq ${value.lastSeq}` };
    });
    if (read) {
      stage('integrity', () => {
        const damage = structuralDamage(db);
        if (damage.length > 0) throw new Error(`integrity check found: ${damage.slice(0, 3).join('; ')}`);
        return { value: undefined, detail: 'ok' };
      });
    }
    if (db.inTransaction) db.exec('ROLLBACK');

    if (failures.length > 0 || !schema || !meta || !tasks || !images || !events) {
      const stages = READ_STAGES.map((s) => outcomes.get(s) ?? { stage: s, status: 'not read' as const, detail: '' });
      // SQLite's own verdict names the problem best; the header check only adds context.
      throw new UnreadableStateError(path, stages, failures.find(isCorruption) ?? failures[0]);
    }
    return { schemaVersion: schema.version, meta, ...tasks, images, ...events, close: () => db.close() };
  } catch (err) {
    db.close();
    if (err instanceof BerthError) throw err;
    throw isCorruption(err)
      ? notReadableError(path, corruptionDetail(err), err)
      : toPersistenceError(err, `reading state database ${path}`);
  }
}

const MAGIC = 'SQLite format 3\0';

/**
 * What the first 100 bytes say, read without SQLite: SQLite refuses a damaged file as a whole,
 * while the header alone often shows what happened (a file cut short, or not SQLite at all).
 */
function describeHeader(path: string): string {
  const size = statSync(path).size;
  if (size === 0) return 'empty file';
  const header = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  let got: number;
  try {
    got = readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (got < 100 || header.toString('latin1', 0, 16) !== MAGIC) {
    throw new Error(`the file (${size} bytes) does not start with an SQLite 3 header`);
  }
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  const pages = header.readUInt32BE(28);
  const described = pages * pageSize;
  const text = `SQLite 3, page size ${pageSize}, ${pages} page(s) by its header, file ${size} bytes`;
  // Mid-checkpoint the file may be shorter than its header says, the WAL holding the rest: SQLite
  // decides whether that is damage, this only informs.
  return size < described ? `${text}: shorter than the ${described} bytes the header describes (truncated?)` : text;
}

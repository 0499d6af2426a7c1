import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { StateChange } from '../api/events.js';
import type { ImageRecord } from '../api/image-record.js';
import type { ContainerState, TaskState } from '../api/task.js';
import { BerthError, PersistenceError } from '../errors.js';
import { decodeTasks, type Decoded } from './decode.js';
import { currentSchemaVersion, migrate } from './migrate.js';
import { TASK } from './records.js';
import { moveToQuarantine, type QuarantineReport } from './quarantine.js';
import { checkCommit, checkImageChange, checkMeta, checkPaging, checkRetention, containerToRow, eventToRow, imageToRow, rowToEvent, rowToImage } from './rows.js';
import type { EventRetention, ImageChange, SavedSources, Saver, SourceChange, StateCommit } from './saver.js';
import { checkSourceChange, rowToSourceTask, sourceTaskToRow } from './source-rows.js';
import {
  corruptionDetail,
  isCorruption,
  lastSeq,
  notReadableError,
  readStatements,
  structuralDamage,
  toPersistenceError,
  writeStatements,
} from './sql.js';

export { openStateReader, UnreadableStateError, type StateReader, type StageOutcome } from './reader.js';
export type { QuarantineReport } from './quarantine.js';

export interface SqliteSaverOptions {
  /** Defaults to the repo's `migrations/`. */
  readonly migrationsDir?: string | URL;
  /** How long a write waits for another connection's lock before failing as retryable. */
  readonly busyTimeoutMs?: number;
  /**
   * Called once for each task that `loadTasks` could not decode and set aside (see quarantine.ts),
   * so the agent can log it: such a task is no longer managed until an operator repairs it.
   */
  readonly onQuarantine?: (entry: QuarantineReport) => void;
}

/**
 * Opens (creating it if needed) the state database at `path` and brings its schema up to date.
 * Throws SchemaVersionError, without changing the file, when a newer agent wrote it, and a
 * PersistenceError saying it is not a readable berth database when the file is damaged or foreign.
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
    // Before anything writes: a damaged file must be refused as it is, not migrated or "repaired"
    // into an empty database that forgets every task. Reads every page, milliseconds at our sizes.
    const damage = structuralDamage(db);
    if (damage.length > 0) throw notReadableError(path, `integrity check found: ${damage.slice(0, 3).join('; ')}`);
    refuseForeignDatabase(db, path);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') {
      throw new PersistenceError(`state database ${path} cannot use WAL (journal mode stays ${String(mode)})`);
    }
    // WAL's default (NORMAL) may lose the last commits on power loss; an acknowledged commit must not be.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, options.migrationsDir);
    return new SqliteSaver(db, path, options.onQuarantine);
  } catch (err) {
    db?.close();
    if (err instanceof BerthError) throw err;
    if (isCorruption(err)) throw notReadableError(path, corruptionDetail(err), err);
    throw toPersistenceError(err, `opening state database ${path}`);
  }
}

/** Another program's SQLite file: migrating it would mix berth's tables into someone else's data. */
function refuseForeignDatabase(db: Database.Database, path: string): void {
  if (currentSchemaVersion(db) > 0) return;
  const tables = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all()
    .map((r) => r.name);
  if (tables.length > 0) {
    throw new PersistenceError(
      `${path} is not a berth state database: it has tables (${tables.slice(0, 5).join(', ')}) but no schema_migrations`,
    );
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
  readonly #decode: Database.Transaction<() => Decoded>;
  readonly #quarantine: Database.Transaction<() => Decoded>;
  readonly #onQuarantine: ((entry: QuarantineReport) => void) | undefined;
  /** Tasks the last load skipped because moving them to quarantine failed. */
  #unmoved: string[] = [];
  /**
   * Each task's containers as last written, by reference. The engine never changes a value it has
   * saved (every change is a new object), so a container whose value is the same object as last
   * time has the same row and is not written again: a transition writes the container it changed,
   * not the whole task.
   */
  readonly #written = new Map<string, readonly ContainerState[]>();
  #closed = false;

  constructor(db: Database.Database, path: string, onQuarantine?: (entry: QuarantineReport) => void) {
    this.#db = db;
    this.#path = path;
    this.#onQuarantine = onQuarantine;
    const read = (this.#read = readStatements(db));
    this.#decode = db.transaction(() => decodeTasks(read.tasks.all(), read.containers.all()));
    // Decodes again under the write lock, so what is moved is exactly what is found bad.
    this.#quarantine = db.transaction(() => {
      const found = decodeTasks(read.tasks.all(), read.containers.all());
      moveToQuarantine(db, found.problems, new Date().toISOString());
      return found;
    });
    const write = (this.#write = writeStatements(db));
    this.#commit = db.transaction((commit: StateCommit) => {
      for (const arn of commit.remove ?? []) write.deleteTask.run(arn);
      for (const task of commit.put ?? []) {
        write.upsertTask.run(TASK.toRow(task));
        const before = this.#written.get(task.arn);
        if (before && sameLayout(before, task.containers)) {
          task.containers.forEach((c, position) => {
            if (c !== before[position]) write.updateContainer.run(containerToRow(task.arn, c, position));
          });
        } else {
          write.deleteContainers.run(task.arn);
          task.containers.forEach((c, position) => write.insertContainer.run(containerToRow(task.arn, c, position)));
        }
      }
      // checkCommit proved each event round-trips, so the saved one is the given one with its seq.
      return (commit.events ?? []).map((event) => ({ ...event, seq: Number(write.insertEvent.run(eventToRow(event)).lastInsertRowid) }));
    });
    this.#prune = db.transaction((policy: EventRetention) => {
      const keepAfter = policy.keepAfter ?? Number.MAX_SAFE_INTEGER;
      const byCount = write.pruneBeyondCount.run(policy.keepLast, keepAfter).changes;
      const byAge = write.pruneOlderThan.run(policy.olderThan, keepAfter).changes;
      const byCap = policy.hardCap === undefined ? 0 : write.pruneBeyondCount.run(policy.hardCap, Number.MAX_SAFE_INTEGER).changes;
      return byCount + byAge + byCap;
    });
  }

  /**
   * Every task that decodes. One that does not (see decode.ts) is moved to the quarantine table
   * and reported through `onQuarantine`, and loading carries on: a bad row costs that task, never
   * the agent's start. Nothing is written when every row decodes.
   */
  async loadTasks(): Promise<TaskState[]> {
    const { tasks, reports } = this.#run('loading tasks', () => {
      const found = this.#decode();
      this.#unmoved = [];
      if (found.problems.length === 0) return { tasks: found.tasks, reports: [] };
      try {
        const moved = this.#quarantine.immediate();
        return { tasks: moved.tasks, reports: moved.problems };
      } catch (err) {
        if (isCorruption(err)) throw err;
        // Skipping the task still lets the agent start; the rows stay for a later load to move.
        const moveFailed = toPersistenceError(err, 'moving rows to quarantine').message;
        this.#unmoved = found.problems.map((p) => p.arn);
        return { tasks: found.tasks, reports: found.problems.map((p) => ({ ...p, moveFailed })) };
      }
    });
    // Outside the transaction: a callback that throws must not undo (or re-report) the move.
    for (const report of reports) this.#onQuarantine?.(report);
    this.#written.clear();
    for (const task of tasks) this.#written.set(task.arn, task.containers);
    return tasks;
  }

  async commit(commit: StateCommit): Promise<StateChange[]> {
    this.#assertOpen();
    checkCommit(commit);
    // IMMEDIATE takes the write lock up front, so a busy database waits in busy_timeout instead
    // of failing mid-transaction when a read lock cannot be upgraded.
    const events = this.#run('saving state', () => this.#commit.immediate(commit));
    // Only once the transaction has committed: a rolled-back write must be written whole next time.
    for (const arn of commit.remove ?? []) this.#written.delete(arn);
    for (const task of commit.put ?? []) this.#written.set(task.arn, task.containers);
    return events;
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

  async unloadedArns(): Promise<string[]> {
    const quarantined = this.#run('reading quarantined tasks', () => this.#read.quarantinedArns.all().map((r) => r.arn));
    return [...new Set([...quarantined, ...this.#unmoved])].sort();
  }

  async loadImages(): Promise<ImageRecord[]> {
    return this.#run('reading images', () => this.#read.images.all().flatMap((row) => rowToImage(row) ?? []));
  }

  async saveImages(change: ImageChange): Promise<void> {
    checkImageChange(change);
    this.#run('writing images', () =>
      this.#db.transaction(() => {
        for (const image of change.put ?? []) this.#write.upsertImage.run(imageToRow(image));
        for (const ref of change.remove ?? []) this.#write.deleteImage.run(ref);
      })(),
    );
  }

  async loadSources(): Promise<SavedSources> {
    return this.#run('reading sources', () => ({
      tasks: this.#read.sourceTasks.all().flatMap((row) => rowToSourceTask(row) ?? []),
      revisions: Object.fromEntries(this.#read.sourceRevisions.all().map((r) => [r.name, r.revision])),
    }));
  }

  async saveSources(change: SourceChange): Promise<void> {
    checkSourceChange(change);
    this.#run('writing sources', () =>
      this.#db.transaction(() => {
        for (const r of change.remove ?? []) this.#write.deleteSourceTask.run(r.source, r.arn);
        for (const t of change.put ?? []) this.#write.upsertSourceTask.run(sourceTaskToRow(t));
        for (const r of change.revisions ?? []) this.#write.setSourceRevision.run(r.source, r.revision);
      }).immediate(),
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
      if (isCorruption(err)) throw notReadableError(this.#path, `${action}: ${corruptionDetail(err)}`, err);
      throw toPersistenceError(err, `${action} in ${this.#path}`);
    }
  }
}

/** The same container names at the same positions: the rows can be updated in place. */
function sameLayout(before: readonly ContainerState[], after: readonly ContainerState[]): boolean {
  return before.length === after.length && after.every((c, i) => c.definition.name === before[i]!.definition.name);
}

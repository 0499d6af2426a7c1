import type { StateChange } from '../api/events.js';
import type { ImageRecord } from '../api/image-record.js';
import type { TaskState } from '../api/task.js';
import { PersistenceError } from '../errors.js';
import { rowsToTask } from './decode.js';
import { checkCommit, checkImageChange, checkMeta, checkPaging, checkRetention, eventToRow, rowToEvent, taskToRows } from './rows.js';
import type { EventRow, Row } from './rows.js';
import type { EventRetention, ImageChange, SavedSources, Saver, SourceChange, StateCommit } from './saver.js';
import { checkSourceChange, rowToSourceTask, sourceTaskToRow, type SourceTaskRow } from './source-rows.js';

/**
 * An in-memory Saver for engine unit tests, held to the same contract suite as SqliteSaver.
 * It stores the very rows SqliteSaver would write (through rows.ts), so values round-trip with
 * the same quirks, and it hands out frozen copies: an engine that mutates loaded state instead of
 * replacing it fails its tests here rather than corrupting state in production.
 */
export class MemorySaver implements Saver {
  #tasks = new Map<string, { task: Row; containers: Row[] }>();
  #events: EventRow[] = [];
  #lastSeq = 0;
  #meta = new Map<string, string>();
  #images = new Map<string, ImageRecord>();
  /** By `source` + NUL + `arn`, as rows, so definitions round-trip through JSON as in SQLite. */
  #sourceTasks = new Map<string, SourceTaskRow>();
  #sourceRevisions = new Map<string, string>();
  #failNext: Error | undefined;
  #failWrites: Error | undefined;
  #commits = 0;
  #closed = false;

  /** How many commits have been applied (rejected ones are not counted). */
  get commits(): number {
    return this.#commits;
  }

  /** Test control: the next `commit` rejects with `error` and changes nothing. */
  failNextCommit(error: Error): void {
    this.#failNext = error;
  }

  /** Test control: every write (`commit`, `setMeta`, `pruneEvents`) rejects with `error` until called with `undefined`, as on a full disk. */
  failWrites(error: Error | undefined): void {
    this.#failWrites = error;
  }

  async loadTasks(): Promise<TaskState[]> {
    this.#assertOpen();
    return [...this.#tasks.values()]
      .sort((a, b) => Number(a.task.created_at) - Number(b.task.created_at) || compare(String(a.task.arn), String(b.task.arn)))
      .map(({ task, containers }) => deepFreeze(rowsToTask(task, containers)));
  }

  async commit(commit: StateCommit): Promise<StateChange[]> {
    this.#assertOpen();
    const failure = this.#failNext;
    if (failure) {
      this.#failNext = undefined;
      throw failure;
    }
    this.#assertWritable();
    checkCommit(commit);
    // Everything that can throw happens before the first change, which is what makes this atomic.
    const puts = (commit.put ?? []).map((task) => taskToRows(task));
    const events = (commit.events ?? []).map((event, i): EventRow => ({ ...eventToRow(event), seq: this.#lastSeq + i + 1 }));

    for (const arn of commit.remove ?? []) this.#tasks.delete(arn);
    for (const rows of puts) this.#tasks.set(String(rows.task.arn), rows);
    this.#events.push(...events);
    this.#lastSeq += events.length;
    this.#commits += 1;
    return events.map((row) => deepFreeze(rowToEvent(row)));
  }

  async eventsAfter(after: number, limit: number): Promise<StateChange[]> {
    this.#assertOpen();
    checkPaging(after, limit);
    return this.#events
      .filter((row) => row.seq > after)
      .slice(0, limit)
      .map((row) => deepFreeze(rowToEvent(row)));
  }

  async lastSeq(): Promise<number> {
    this.#assertOpen();
    return this.#lastSeq;
  }

  async oldestSeq(): Promise<number | undefined> {
    this.#assertOpen();
    return this.#events[0]?.seq;
  }

  async pruneEvents(policy: EventRetention): Promise<number> {
    this.#assertOpen();
    checkRetention(policy);
    this.#assertWritable();
    const before = this.#events.length;
    const keepAfter = policy.keepAfter ?? Number.MAX_SAFE_INTEGER;
    const countFloor = this.#events.at(-policy.keepLast - 1)?.seq;
    const newestTooOld = this.#events.findLast((row) => String(row.at) < policy.olderThan)?.seq;
    const pruned = (seq: number): boolean =>
      seq <= keepAfter && ((countFloor !== undefined && seq <= Number(countFloor)) || (newestTooOld !== undefined && seq <= Number(newestTooOld)));
    this.#events = this.#events.filter((row) => !pruned(Number(row.seq)));
    if (policy.hardCap !== undefined) this.#events = this.#events.slice(Math.max(0, this.#events.length - policy.hardCap));
    return before - this.#events.length;
  }

  /** Rows here always decode: nothing is ever unloaded. */
  async unloadedArns(): Promise<string[]> {
    this.#assertOpen();
    return [];
  }

  async loadImages(): Promise<ImageRecord[]> {
    this.#assertOpen();
    return [...this.#images.values()].sort((a, b) => compare(a.ref, b.ref));
  }

  async saveImages(change: ImageChange): Promise<void> {
    this.#assertOpen();
    checkImageChange(change);
    this.#assertWritable();
    for (const image of change.put ?? []) this.#images.set(image.ref, deepFreeze(structuredClone(image)));
    for (const ref of change.remove ?? []) this.#images.delete(ref);
  }

  async loadSources(): Promise<SavedSources> {
    this.#assertOpen();
    const rows = [...this.#sourceTasks.values()].sort((a, b) => compare(a.source, b.source) || compare(a.arn, b.arn));
    return deepFreeze({
      tasks: rows.flatMap((row) => rowToSourceTask(row) ?? []),
      revisions: Object.fromEntries([...this.#sourceRevisions].sort(([a], [b]) => compare(a, b))),
    });
  }

  async saveSources(change: SourceChange): Promise<void> {
    this.#assertOpen();
    checkSourceChange(change);
    this.#assertWritable();
    const rows = (change.put ?? []).map(sourceTaskToRow);
    for (const r of change.remove ?? []) this.#sourceTasks.delete(`${r.source}\0${r.arn}`);
    for (const row of rows) this.#sourceTasks.set(`${row.source}\0${row.arn}`, row);
    for (const r of change.revisions ?? []) this.#sourceRevisions.set(r.source, r.revision);
  }

  async getMeta(key: string): Promise<string | undefined> {
    this.#assertOpen();
    return this.#meta.get(key);
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.#assertOpen();
    checkMeta(key, value);
    this.#assertWritable();
    this.#meta.set(key, value);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertWritable(): void {
    if (this.#failWrites) throw this.#failWrites;
  }

  #assertOpen(): void {
    if (this.#closed) throw new PersistenceError('state database (memory) is closed');
  }
}

// SQLite orders TEXT by bytes, localeCompare does not; this matches ORDER BY arn for ASCII ARNs.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

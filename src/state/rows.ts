import type { NewStateChange, StateChange } from '../api/events.js';
import type { ImageRecord } from '../api/image-record.js';
import type { ContainerState, TaskState } from '../api/task.js';
import { PersistenceError } from '../errors.js';
import { INVALID } from './codec.js';
import type { Row } from './record.js';
import { CONTAINER, EVENT, IMAGE, TASK } from './records.js';
import type { ImageChange, StateCommit } from './saver.js';

/*
 * Domain values to the rows of the state tables and back, through the declarations in records.ts,
 * shared by the SQLite saver, the read-only reader and the in-memory fake, so all three round-trip
 * values identically: an absent optional field is NULL (or missing from `extra`) in a row and
 * absent (not `undefined`-valued) when read back. Loading a task's rows is decode.ts's.
 */

export type { Row } from './record.js';
export type EventRow = Row & { readonly seq: number };

export function taskToRows(task: TaskState): { task: Row; containers: Row[] } {
  return { task: TASK.toRow(task), containers: task.containers.map((c, position) => containerToRow(task.arn, c, position)) };
}

export function containerToRow(arn: string, container: ContainerState, position: number): Row {
  return { task_arn: arn, name: container.definition.name, position, ...CONTAINER.toRow(container) };
}

export function eventToRow(event: NewStateChange): Row {
  return EVENT.toRow(event);
}

/** Events are never quarantined: one that does not decode is a bug or damage, reported as such. */
export function rowToEvent(row: EventRow): StateChange {
  const issues: string[] = [];
  const event = EVENT.fromRow(row, (path, message) => issues.push(`${path} ${message}`));
  if (event === INVALID) throw new PersistenceError(`event ${row.seq} cannot be read: ${issues.join('; ')}`);
  return { seq: row.seq, ...event };
}

/**
 * Rejects, before anything is written, a commit the schema would refuse or could not round-trip
 * (NaN becomes NULL in SQLite, a fraction fails an INTEGER column, a key the records do not declare
 * would be dropped, a task without containers would load as half-written). Both savers call it, so
 * the in-memory fake refuses exactly what production refuses and with the same message.
 */
/**
 * Container values that passed `checkCommit` once. A value the engine saved is never changed (a
 * change is a new object), so it passes again: a transition checks the container it changed, not
 * every container of its task.
 */
const checked = new WeakSet<ContainerState>();

export function checkCommit(commit: StateCommit): void {

  const issues: string[] = [];
  const issue = (path: string, message: string): void => void issues.push(`${path} ${message}`);
  const removed = new Set(commit.remove ?? []);
  const seen = new Set<string>();
  (commit.remove ?? []).forEach((arn, i) => {
    if (typeof arn !== 'string' || arn === '') issue(`remove[${i}]`, 'must be a non-empty string');
  });
  (commit.put ?? []).forEach((task, i) => {
    const at = `put[${i}]`;
    const { containers, ...fields } = task;
    TASK.check(fields, at, issue);
    if (seen.has(task.arn)) issue(`${at}.arn`, `${task.arn}: the task is put twice`);
    if (removed.has(task.arn)) issue(`${at}.arn`, `${task.arn}: the task is both put and removed`);
    seen.add(task.arn);
    if (!Array.isArray(containers) || containers.length === 0) {
      issue(`${at}.containers`, 'must be a non-empty array');
      return;
    }
    const names = new Set<string>();
    containers.forEach((c, j) => {
      const cat = `${at}.containers[${j}]`;
      if (!checked.has(c)) {
        if (!CONTAINER.check(c, cat, issue)) return;
        checked.add(c);
      }
      const name = c.definition.name;
      if (names.has(name)) issue(`${cat}.definition.name`, `duplicates container name ${JSON.stringify(name)}`);
      names.add(name);
    });
  });
  (commit.events ?? []).forEach((event, i) => EVENT.check(event, `events[${i}]`, issue));
  if (issues.length > 0) throw new PersistenceError(`invalid state commit: ${issues.join('; ')}`);
}

/** `eventsAfter` arguments; LIMIT -1 would mean "no limit" to SQLite, so negatives are refused. */
export function checkPaging(after: number, limit: number): void {
  if (!Number.isSafeInteger(after)) throw new RangeError(`after must be an integer, got ${after}`);
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
}

export function checkMeta(key: string, value: string): void {
  if (typeof key !== 'string' || key === '') throw new PersistenceError('meta key must be a non-empty string');
  if (typeof value !== 'string') throw new PersistenceError(`meta ${key}: value must be a string`);
}

export function checkRetention(policy: { keepLast: number; olderThan: string; keepAfter?: number; hardCap?: number }): void {
  for (const key of ['keepLast', 'keepAfter', 'hardCap'] as const) {
    const value = policy[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new RangeError(`${key} must be a non-negative integer, got ${value}`);
    }
  }
  if (Number.isNaN(Date.parse(policy.olderThan))) {
    throw new RangeError(`olderThan must be an ISO-8601 time, got ${JSON.stringify(policy.olderThan)}`);
  }
}

export function imageToRow(image: ImageRecord): Row {
  return IMAGE.toRow(image);
}

/** An image row that does not decode is dropped, not fatal: the record only orders cleanup and informs `once`. */
export function rowToImage(row: Row): ImageRecord | undefined {
  const image = IMAGE.fromRow(row, () => {});
  return image === INVALID ? undefined : image;
}

/** Rejects, before anything is written, an image change the table could not round-trip. */
export function checkImageChange(change: ImageChange): void {
  const issues: string[] = [];
  const issue = (path: string, message: string): void => void issues.push(`${path} ${message}`);
  (change.put ?? []).forEach((image, i) => IMAGE.check(image, `put[${i}]`, issue));
  (change.remove ?? []).forEach((ref, i) => {
    if (typeof ref !== 'string' || ref === '') issue(`remove[${i}]`, 'must be a non-empty string');
  });
  if (issues.length > 0) throw new PersistenceError(`image change refused: ${issues.join('; ')}`);
}

import type { TaskDefinition } from '../api/task.js';
import { PersistenceError } from '../errors.js';
import type { SavedSourceTask, SourceChange } from './saver.js';

/* How a source's saved task becomes a `source_tasks` row and back, shared by both savers. */

export interface SourceTaskRow {
  readonly source: string;
  readonly arn: string;
  readonly origin: string;
  readonly claim: number;
  readonly definition: string;
}

export function sourceTaskToRow(task: SavedSourceTask): SourceTaskRow {
  return { source: task.source, arn: task.arn, origin: task.origin, claim: task.claim, definition: JSON.stringify(task.definition) };
}

/**
 * A row whose definition is not an object is dropped, not fatal: the source re-delivers its set on
 * start (a rescan, a re-list), and the task itself is kept by the engine's own tables.
 */
export function rowToSourceTask(row: SourceTaskRow): SavedSourceTask | undefined {
  try {
    const definition = JSON.parse(row.definition) as unknown;
    if (typeof definition !== 'object' || definition === null || (definition as { arn?: unknown }).arn !== row.arn) return undefined;
    return { source: row.source, arn: row.arn, origin: row.origin, claim: Number(row.claim), definition: definition as TaskDefinition };
  } catch {
    return undefined;
  }
}

/** Rejects, before anything is written, a change the tables would refuse. */
export function checkSourceChange(change: SourceChange): void {
  const issues: string[] = [];
  const text = (value: unknown, path: string): void => {
    if (typeof value !== 'string' || value === '') issues.push(`${path} must be a non-empty string`);
  };
  (change.put ?? []).forEach((t, i) => {
    text(t.source, `put[${i}].source`);
    text(t.arn, `put[${i}].arn`);
    if (typeof t.origin !== 'string') issues.push(`put[${i}].origin must be a string`);
    if (!Number.isSafeInteger(t.claim) || t.claim < 1) issues.push(`put[${i}].claim must be a positive integer`);
    if (t.definition?.arn !== t.arn) issues.push(`put[${i}].definition.arn must be the row's arn`);
  });
  (change.remove ?? []).forEach((r, i) => {
    text(r.source, `remove[${i}].source`);
    text(r.arn, `remove[${i}].arn`);
  });
  (change.revisions ?? []).forEach((r, i) => {
    text(r.source, `revisions[${i}].source`);
    if (typeof r.revision !== 'string') issues.push(`revisions[${i}].revision must be a string`);
  });
  if (issues.length > 0) throw new PersistenceError(`source change refused: ${issues.join('; ')}`);
}

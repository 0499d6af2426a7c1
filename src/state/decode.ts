import type { ContainerState, TaskState } from '../api/task.js';
import { PersistenceError } from '../errors.js';
import { INVALID } from './codec.js';
import type { Row } from './record.js';
import { CONTAINER, TASK } from './records.js';

/**
 * Checks every task read from the database on its own, so that one bad row costs one task and not
 * the agent's start-up. A task is checked against the stored model (records.ts, stored-model.ts),
 * never against the input rules it was accepted under: those may have been tightened since, and a
 * task that is running must keep loading. What fails here cannot be decoded at all: text that is
 * not JSON, a value of the wrong type, a required key missing, a status no reader knows, rows that
 * a crash outside a transaction or a hand edit left half-written.
 */

/** A task (or a group of container rows) that cannot be loaded, and why, for an operator. */
export interface LoadProblem {
  readonly arn: string;
  readonly reason: string;
}

export interface Decoded {
  readonly tasks: TaskState[];
  readonly problems: LoadProblem[];
}

/** `tasks` in the order given; `problems` for bad tasks first, then orphaned container rows. */
export function decodeTasks(taskRows: readonly Row[], containerRows: readonly Row[]): Decoded {
  const byTask = new Map<string, Row[]>();
  for (const row of containerRows) {
    const arn = String(row.task_arn);
    const rows = byTask.get(arn);
    if (rows) rows.push(row);
    else byTask.set(arn, [row]);
  }
  const tasks: TaskState[] = [];
  const problems: LoadProblem[] = [];
  for (const row of taskRows) {
    const arn = String(row.arn);
    const containers = byTask.get(arn) ?? [];
    byTask.delete(arn);
    const result = decodeTask(row, containers);
    if ('task' in result) tasks.push(result.task);
    else problems.push({ arn, reason: result.reason });
  }
  for (const [arn, rows] of byTask) {
    const names = rows.map((r) => r.name).join(', ');
    problems.push({ arn, reason: `${rows.length} container row(s) (${names}) whose task row is missing` });
  }
  return { tasks, problems };
}

/** `containers` must be this task's rows; they are put in definition order here. */
export function decodeTask(row: Readonly<Row>, containers: readonly Row[]): { task: TaskState } | { reason: string } {
  if (containers.length === 0) return { reason: 'half-written task: the task row has no container rows' };
  const issues: string[] = [];
  const task = TASK.fromRow(row, (path, message) => issues.push(`task: ${path} ${message}`));
  const loaded: ContainerState[] = [];
  for (const c of [...containers].sort((a, b) => Number(a.position) - Number(b.position))) {
    const at = `container ${String(c.name)}`;
    const container = CONTAINER.fromRow(c, (path, message) => issues.push(`${at}: ${path} ${message}`));
    if (container === INVALID) continue;
    if (container.definition.name !== c.name) issues.push(`${at}: its definition is named ${JSON.stringify(container.definition.name)}`);
    loaded.push(container);
  }
  if (task === INVALID || issues.length > 0) return { reason: issues.join('; ') };
  return { task: { ...task, containers: loaded } };
}

/** For rows this process wrote itself (the in-memory saver): failing to decode them is a bug. */
export function rowsToTask(row: Readonly<Row>, containers: readonly Row[]): TaskState {
  const result = decodeTask(row, containers);
  if ('reason' in result) throw new PersistenceError(`task ${String(row.arn)} cannot be read back: ${result.reason}`);
  return result.task;
}

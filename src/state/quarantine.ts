import type Database from 'better-sqlite3';
import type { LoadProblem } from './decode.js';

/*
 * The `quarantine` table of migrations/003_quarantine.sql: where rows that cannot be loaded go, so
 * the agent starts without them and an operator still has every byte to inspect or repair.
 */

/** What the saver reports for each task it set aside at load. */
export interface QuarantineReport extends LoadProblem {
  /**
   * Set when the rows could not be moved (a full disk, a read-only file): the task was skipped for
   * this load only and its rows stay where they are, to be moved by a later load.
   */
  readonly moveFailed?: string;
}

/** One row of the quarantine table, decoded for `agent state dump`. */
export interface QuarantinedEntry {
  readonly arn: string;
  readonly reason: string;
  readonly quarantinedAt: string;
  readonly taskRow: Record<string, unknown> | null;
  readonly containerRows: readonly Record<string, unknown>[];
}

/**
 * Moves each problem's task row and container rows into `quarantine`, verbatim (`SELECT *`, so a
 * column this build does not know is kept too). Must run inside the caller's write transaction,
 * together with the read that found the problems, so nothing can change in between.
 */
export function moveToQuarantine(db: Database.Database, problems: readonly LoadProblem[], at: string): void {
  const taskRow = db.prepare<[string], Record<string, unknown>>('SELECT * FROM tasks WHERE arn = ?');
  const containerRows = db.prepare<[string], Record<string, unknown>>(
    'SELECT * FROM containers WHERE task_arn = ? ORDER BY position',
  );
  const insert = db.prepare<[string, string, string | null, string, string]>(
    'INSERT INTO quarantine (arn, reason, task_row, container_rows, quarantined_at) VALUES (?, ?, ?, ?, ?)',
  );
  // Containers first and explicitly: orphans have no task row whose cascade would remove them.
  const deleteContainers = db.prepare<[string]>('DELETE FROM containers WHERE task_arn = ?');
  const deleteTask = db.prepare<[string]>('DELETE FROM tasks WHERE arn = ?');
  for (const { arn, reason } of problems) {
    const task = taskRow.get(arn);
    insert.run(arn, reason, task === undefined ? null : JSON.stringify(task), JSON.stringify(containerRows.all(arn)), at);
    deleteContainers.run(arn);
    deleteTask.run(arn);
  }
}

export function readQuarantine(db: Database.Database): QuarantinedEntry[] {
  const rows = db
    .prepare<[], { arn: string; reason: string; task_row: string | null; container_rows: string; quarantined_at: string }>(
      'SELECT arn, reason, task_row, container_rows, quarantined_at FROM quarantine ORDER BY id',
    )
    .all();
  return rows.map((row) => ({
    arn: row.arn,
    reason: row.reason,
    quarantinedAt: row.quarantined_at,
    taskRow: row.task_row === null ? null : (JSON.parse(row.task_row) as Record<string, unknown>),
    containerRows: JSON.parse(row.container_rows) as Record<string, unknown>[],
  }));
}

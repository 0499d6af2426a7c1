import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { TaskState } from '../../src/api/task.js';
import { taskToRows, type Row } from '../../src/state/rows.js';

/** A scratch directory per test, with the database path the agent would use inside it. */
export function scratch(prefix: string): { dir: string; path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, path: join(dir, 'state', 'state.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A real database file made from SQL text, as `sqlite3 file < dump.sql` would make it. */
export function buildDatabase(path: string, sql: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

/**
 * A connection that writes what the agent never would: rows without their task and values the
 * schema's CHECKs refuse. That is what a crash in an older build, a hand edit or a restored
 * partial backup leaves behind.
 */
export function tamper(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('foreign_keys = OFF');
  db.pragma('ignore_check_constraints = ON');
  return db;
}

export type RawRows = { task: Row | null; containers: Row[] };

/** Writes `task` as rows, after `edit` has had its way with them; returns exactly what was written. */
export function insertRows(db: Database.Database, task: TaskState, edit: (rows: RawRows) => void = () => {}): RawRows {
  const rows: RawRows = taskToRows(task);
  edit(rows);
  if (rows.task) {
    const columns = Object.keys(rows.task);
    db.prepare(`INSERT INTO tasks (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`).run(rows.task);
  }
  for (const row of rows.containers) {
    const columns = Object.keys(row);
    db.prepare(`INSERT INTO containers (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`).run(row);
  }
  return rows;
}

/** Content and modification time: equal fingerprints mean nothing wrote the file. */
export function fingerprint(file: string): string {
  return `${statSync(file).mtimeMs}:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
}

/** The page size and the root page (1-based) of `table`'s b-tree, read before damaging the file. */
export function rootPage(path: string, table: string): { pageSize: number; page: number } {
  const db = new Database(path, { readonly: true });
  try {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const row = db.prepare<[string], { rootpage: number }>("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
    if (!row) throw new Error(`no table ${table}`);
    return { pageSize, page: row.rootpage };
  } finally {
    db.close();
  }
}

import Database from 'better-sqlite3';

export interface DatabaseDump {
  readonly userVersion: unknown;
  /** Every schema object (tables, indexes, triggers) with its SQL. */
  readonly schema: readonly unknown[];
  /** Every row of every table, sqlite_sequence and the migration log included, in a stable order. */
  readonly tables: Readonly<Record<string, readonly string[]>>;
}

/**
 * Everything in the SQLite file, read through a separate read-only connection (WAL lets it read
 * beside the agent's). Rows are compared as JSON text, sorted, so no table needs a rowid or key.
 */
export function dumpDatabase(path: string): DatabaseDump {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const schema = db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all();
    const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    const tables: Record<string, string[]> = {};
    for (const name of names) {
      const rows = db.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}"`).all();
      tables[name] = rows.map((row) => JSON.stringify(row)).sort();
    }
    return { userVersion: db.pragma('user_version', { simple: true }), schema, tables };
  } finally {
    db.close();
  }
}

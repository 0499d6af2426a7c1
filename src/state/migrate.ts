import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { PersistenceError, SchemaVersionError, errorMessage } from '../errors.js';

/**
 * The repo's `migrations/`: two levels up from both `src/state/` (vitest) and `dist/state/` (built),
 * and shipped next to `dist/` by package.json's `files`.
 */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly file: string;
}

const FILE_PATTERN = /^(\d{3})_([A-Za-z0-9][A-Za-z0-9_-]*)\.sql$/;

/**
 * The migrations in `dir`, oldest first. A malformed name, a duplicate or a gap is a packaging
 * mistake that would silently skip or reorder schema changes, so it stops the agent instead.
 */
export function listMigrations(dir: string | URL = DEFAULT_MIGRATIONS_DIR): Migration[] {
  const path = typeof dir === 'string' ? dir : fileURLToPath(dir);
  let entries: string[];
  try {
    entries = readdirSync(path);
  } catch (err) {
    throw new PersistenceError(`cannot read migrations directory ${path}: ${errorMessage(err)}`, { cause: err });
  }
  const problems: string[] = [];
  const byVersion = new Map<number, Migration>();
  for (const file of entries.filter((f) => f.endsWith('.sql')).sort()) {
    const match = FILE_PATTERN.exec(file);
    if (!match) {
      problems.push(`${file} is not named NNN_name.sql`);
      continue;
    }
    const version = Number(match[1]);
    const existing = byVersion.get(version);
    if (existing) {
      problems.push(`${existing.file} and ${file} both claim version ${version}`);
      continue;
    }
    byVersion.set(version, { version, name: match[2] ?? '', file: join(path, file) });
  }
  const migrations = [...byVersion.values()].sort((a, b) => a.version - b.version);
  const gap = migrations.findIndex((m, i) => m.version !== i + 1);
  if (gap >= 0) {
    const next = migrations[gap];
    problems.push(`migration ${pad(gap + 1)} is missing (next is ${next ? basename(next.file) : '?'})`);
  }
  if (problems.length === 0 && migrations.length === 0) problems.push('no NNN_name.sql files');
  if (problems.length > 0) {
    throw new PersistenceError(`invalid migrations directory ${path}: ${problems.join('; ')}`);
  }
  return migrations;
}

/** The schema version this build's migrations produce. */
export function latestSchemaVersion(dir?: string | URL): number {
  return listMigrations(dir).at(-1)?.version ?? 0;
}

/** The version recorded in `db`; 0 for a database no migration has touched. */
export function currentSchemaVersion(db: Database.Database): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (table === undefined) return 0;
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as {
    version: number | null;
  };
  return row.version ?? 0;
}

/**
 * Brings `db` up to the newest migration in `dir`, each migration in its own transaction so a
 * failure leaves the database at the last good version. Refuses, before touching anything, a
 * database written by a newer build.
 */
export function migrate(db: Database.Database, dir?: string | URL): { from: number; to: number } {
  const migrations = listMigrations(dir);
  const supported = migrations.at(-1)?.version ?? 0;
  const from = currentSchemaVersion(db);
  if (from > supported) throw new SchemaVersionError(from, supported);
  const pending = migrations.filter((m) => m.version > from);
  if (pending.length === 0) return { from, to: from };

  // SQLite's documented recipe for schema changes: with foreign keys on, a migration that rebuilds
  // `tasks` (DROP + RENAME) would cascade-delete every container. The setting cannot change inside
  // a transaction, hence here; foreign_key_check below keeps the guarantee it would have given.
  const foreignKeys = db.pragma('foreign_keys', { simple: true }) as number;
  db.pragma('foreign_keys = OFF');
  try {
    for (const migration of pending) apply(db, migration);
  } finally {
    db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
  return { from, to: supported };
}

function apply(db: Database.Database, migration: Migration): void {
  const sql = readFileSync(migration.file, 'utf8');
  const run = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY NOT NULL,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    ) STRICT`);
    db.exec(sql);
    const violations = db.pragma('foreign_key_check') as unknown[];
    if (violations.length > 0) {
      throw new PersistenceError(`leaves ${violations.length} foreign key violation(s)`);
    }
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      migration.version,
      migration.name,
      new Date().toISOString(),
    );
  });
  try {
    run();
  } catch (err) {
    throw new PersistenceError(
      `migration ${pad(migration.version)}_${migration.name} failed and was rolled back: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}

function pad(version: number): string {
  return String(version).padStart(3, '0');
}

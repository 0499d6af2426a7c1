import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentSchemaVersion, listMigrations } from '../../../src/state/migrate.js';
import { containerDefinition, TASK_DEFAULTS, type ContainerDefinition } from '../../../src/api/task.js';
import { eventToRow, taskToRows } from '../../../src/state/rows.js';
import { openSqliteSaver, openStateReader, type QuarantineReport, type SqliteSaver } from '../../../src/state/sqlite-saver.js';
import { event } from '../../contract/saver.contract.js';
import { buildDatabase, scratch } from '../../support/sqlite-tamper.js';

/*
 * Databases that hosts already have, one per released schema (test/fixtures/README.md): the agent
 * must open every one of them, migrate it, and lose or change nothing.
 */

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const NAME = /^schema-(\d{3})\.sql$/;
const fixtures = readdirSync(FIXTURES).filter((f) => NAME.test(f)).sort();
const migrations = listMigrations();
const LATEST = migrations.at(-1)!.version;
const versionOf = (file: string): number => Number(NAME.exec(file)![1]);

type Row = Record<string, unknown>;
/** JSON columns compared as values: key order in stored JSON is not part of the data. */
const JSON_COLUMNS = ['definition', 'port_bindings', 'extra', 'task_row', 'container_rows'];
const normalized = (row: object): Row =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, JSON_COLUMNS.includes(k) && typeof v === 'string' ? JSON.parse(v) : v]));
/** The columns a released schema had, out of a row of the newest one. */
const released = (row: Row, like: Row): Row => Object.fromEntries(Object.keys(like).map((k) => [k, row[k]]));
const byTaskAndPosition = (a: Row, b: Row): number =>
  String(a.task_arn).localeCompare(String(b.task_arn)) || Number(a.position) - Number(b.position);

function rawContents(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    const all = (sql: string): Row[] => db.prepare(sql).all() as Row[];
    const hasQuarantine = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'quarantine'").get() !== undefined;
    return {
      version: currentSchemaVersion(db),
      tasks: all('SELECT * FROM tasks ORDER BY created_at, arn'),
      containers: all('SELECT * FROM containers').map(normalized).sort(byTaskAndPosition),
      events: all('SELECT * FROM events ORDER BY seq').map(normalized),
      meta: Object.fromEntries(all('SELECT key, value FROM meta').map((r) => [r.key, r.value])),
      quarantine: hasQuarantine ? all('SELECT * FROM quarantine ORDER BY id').map(normalized) : [],
      lastSeq: (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined)?.seq ?? 0,
    };
  } finally {
    db.close();
  }
}

describe('schema fixtures', () => {
  it('cover every released schema: each version before the newest', () => {
    const missing = migrations
      .slice(0, -1)
      .map((m) => `schema-${String(m.version).padStart(3, '0')}.sql`)
      .filter((file) => !fixtures.includes(file));
    // A new migration makes the previous newest schema a released one that hosts may still have.
    expect(missing, `add ${missing.join(', ')} to test/fixtures (see its README.md)`).toEqual([]);
    expect(fixtures.length).toBeGreaterThanOrEqual(2);
    for (const file of fixtures) expect(versionOf(file)).toBeLessThan(LATEST);
  });

  it('are SQL text, never binary database files', () => {
    const files = readdirSync(FIXTURES);
    expect(files.filter((f) => /\.(db|sqlite3?)(-wal|-shm)?$/.test(f))).toEqual([]);
    for (const file of fixtures) expect(readFileSync(join(FIXTURES, file), 'utf8')).not.toContain('SQLite format 3\0');
  });
});

describe.each(fixtures)('a database from %s', (file) => {
  let dir: ReturnType<typeof scratch>;
  const opened: SqliteSaver[] = [];
  beforeEach(() => {
    dir = scratch('berth-fixture-');
    buildDatabase(dir.path, readFileSync(join(FIXTURES, file), 'utf8'));
  });
  afterEach(async () => {
    for (const saver of opened.splice(0)) await saver.close();
    dir.cleanup();
  });
  const open = (reports: QuarantineReport[]): SqliteSaver => {
    opened.push(openSqliteSaver(dir.path, { onQuarantine: (r) => reports.push(r) }));
    return opened.at(-1)!;
  };

  it('migrates to the newest schema with every task, event and meta value intact, and seqs keep rising', async () => {
    const before = rawContents(dir.path);
    expect(before.version).toBe(versionOf(file));
    // A fixture with nothing in it would prove nothing.
    expect(before.tasks.length).toBeGreaterThanOrEqual(3);
    expect(before.containers.length).toBeGreaterThan(before.tasks.length);
    expect(before.events.length).toBeGreaterThanOrEqual(3);

    const reports: QuarantineReport[] = [];
    const saver = open(reports);
    const tasks = await saver.loadTasks();
    expect(reports).toEqual([]);

    // The file: every row as it was, with the new columns at their migration defaults.
    const after = rawContents(dir.path);
    expect(after.version).toBe(LATEST);
    expect(after.tasks).toEqual(before.tasks.map((r) => ({ ...r, rules: r.rules ?? 1, extra: r.extra ?? '{}' })));
    expect(after.containers).toEqual(before.containers.map((r) => ({ ...r, extra: r.extra ?? {} })));
    expect(after.events).toEqual(before.events.map((r) => ({ ...r, extra: r.extra ?? {} })));
    expect(after.quarantine).toEqual(before.quarantine);
    expect(after.meta).toEqual(before.meta);

    // The loaded tasks: every old value intact, every new field at its default.
    expect(tasks.map((t) => released(taskToRows(t).task, before.tasks[0]!))).toEqual(before.tasks);
    const loaded = tasks.flatMap((t) => taskToRows(t).containers).map(normalized).sort(byTaskAndPosition);
    const withoutDefinition = ({ definition: _definition, ...rest }: Row): Row => rest;
    expect(loaded.map((r) => withoutDefinition(released(r, before.containers[0]!)))).toEqual(before.containers.map(withoutDefinition));
    expect(loaded.map((r) => r.definition)).toStrictEqual(before.containers.map((r) => containerDefinition(r.definition as ContainerDefinition)));
    // Schemas before `extra` could not hold the fields it brought: they load at their defaults.
    const hadExtra = 'extra' in before.tasks[0]!;
    for (const task of hadExtra ? [] : tasks) {
      expect(task.settings).toStrictEqual({ networkMode: TASK_DEFAULTS.networkMode, volumes: [] });
      expect(task.provisionedVolumes).toStrictEqual([]);
      // Accepted under rules version 1, this build's: absent.
      expect('rules' in task).toBe(false);
      for (const c of task.containers) expect('health' in c).toBe(false);
    }
    const events = await saver.eventsAfter(0, 1000);
    expect(events.map((e) => released(normalized({ seq: e.seq, ...eventToRow(e) }), before.events[0]!))).toEqual(before.events);
    for (const [key, value] of Object.entries(before.meta)) expect(await saver.getMeta(key)).toBe(value);
    expect(await saver.lastSeq()).toBe(before.lastSeq);
    expect(await saver.oldestSeq()).toBe(before.events[0]!.seq);

    const [next] = await saver.commit({ events: [event('arn:berth:task/after-upgrade')] });
    expect(next!.seq).toBe(before.lastSeq + 1);
    // What a restart after the upgrade sees, and what `agent state dump` shows.
    await saver.commit({ put: [{ ...tasks[0]!, updatedAt: tasks[0]!.updatedAt + 1 }] });
    const restarted = open(reports);
    const reloaded = await restarted.loadTasks();
    expect(reloaded).toStrictEqual([{ ...tasks[0]!, updatedAt: tasks[0]!.updatedAt + 1 }, ...tasks.slice(1)]);
    expect(reports).toEqual([]);
    const reader = openStateReader(dir.path);
    try {
      expect(reader).toMatchObject({ schemaVersion: LATEST, problems: [], lastSeq: before.lastSeq + 1 });
      expect(reader.quarantined.map((q) => ({ arn: q.arn, reason: q.reason, task_row: q.taskRow, container_rows: q.containerRows }))).toEqual(
        before.quarantine.map((r) => ({ arn: r.arn, reason: r.reason, task_row: r.task_row, container_rows: r.container_rows })),
      );
      expect(reader.tasks).toStrictEqual(reloaded);
    } finally {
      reader.close();
    }
  });
});

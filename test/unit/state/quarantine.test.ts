import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskState } from '../../../src/api/task.js';
import { openSqliteSaver, openStateReader, type QuarantineReport, type SqliteSaver } from '../../../src/state/sqlite-saver.js';
import { bareTask, event, fullTask } from '../../contract/saver.contract.js';
import type { Row } from '../../../src/state/rows.js';
import { fingerprint, insertRows, scratch, tamper, type RawRows } from '../../support/sqlite-tamper.js';

let dir: ReturnType<typeof scratch>;
const opened: Array<SqliteSaver | Database.Database> = [];
beforeEach(() => {
  dir = scratch('berth-quarantine-');
});
afterEach(async () => {
  for (const handle of opened.splice(0)) await handle.close();
  dir.cleanup();
});

function open(reports: QuarantineReport[] = []): SqliteSaver {
  const saver = openSqliteSaver(dir.path, { onQuarantine: (entry) => reports.push(entry) });
  opened.push(saver);
  return saver;
}

/** What an operator would find with sqlite3: every row of a table, decoded where it is JSON. */
function table(name: 'tasks' | 'containers' | 'quarantine'): Record<string, unknown>[] {
  const db = new Database(dir.path, { readonly: true });
  try {
    return db.prepare(`SELECT * FROM ${name} ORDER BY rowid`).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

/** A database with two good tasks and some events, closed, then bad rows written behind the agent's back. */
async function databaseWith(bad: (db: Database.Database) => void): Promise<void> {
  const saver = openSqliteSaver(dir.path);
  await saver.commit({ put: [fullTask(), bareTask()], events: [event('a'), event('b')] });
  await saver.close();
  const db = tamper(dir.path);
  try {
    bad(db);
  } finally {
    db.close();
  }
}

const good = (): TaskState[] => [fullTask(), bareTask()];
const broken = (arn: string, edit: (rows: RawRows) => void) => (db: Database.Database): RawRows =>
  insertRows(db, { ...bareTask(arn), family: 'broken' }, edit);

const definitionOf = (row: Row): Record<string, unknown> => JSON.parse(String(row.definition)) as Record<string, unknown>;

/*
 * What cannot be decoded at all: rows the agent never writes, from a crash outside a transaction,
 * a hand edit, or damage. A definition is checked against the stored model, never against the
 * input rules, and a key it does not know is ignored, not quarantined: accepted-rules.test.ts
 * shows what that lets through, and says why.
 */
const cases: Array<[string, string, (rows: RawRows) => void, RegExp]> = [
  ['orphan container rows', 'arn:bad/orphan', (rows) => void (rows.task = null), /1 container row\(s\) \(app\) whose task row is missing/],
  ['a half-written task (task row, no container rows)', 'arn:bad/half', (rows) => void (rows.containers = []), /half-written task: the task row has no container rows/],
  ['a definition that is not JSON', 'arn:bad/json', (rows) => void (rows.containers[0]!.definition = '{"name": "app", "ima'), /container app: definition is not valid JSON/],
  ['a definition of the wrong shape', 'arn:bad/shape', (rows) => {
    const { image: _image, ...definition } = definitionOf(rows.containers[0]!);
    rows.containers[0]!.definition = JSON.stringify({ ...definition, stopTimeout: '30', portMappings: [{ containerPort: 80 }] });
  }, /container app: definition\.image is missing; container app: definition\.stopTimeout must be a finite number, got "30"; container app: definition\.portMappings\[0\]\.protocol is missing/],
  ['an unknown task status', 'arn:bad/task-status', (rows) => void (rows.task!.known_status = 'PAUSED'), /task: known_status is "PAUSED", not one of NONE, PULLED, CREATED, RUNNING, STOPPED/],
  ['an unknown container status', 'arn:bad/container-status', (rows) => void (rows.containers[0]!.desired_status = 'SLEEPING'), /container app: desired_status is "SLEEPING", not one of RUNNING, STOPPED/],
  ['a container row that contradicts its definition', 'arn:bad/renamed', (rows) => void (rows.containers[0]!.name = 'other'), /container other: its definition is named "app"/],
  ['extra fields that are not a JSON object', 'arn:bad/extra', (rows) => void (rows.task!.extra = '[1]'), /task: extra must be a JSON object, got \[1\]/],
  ['an unknown health status in extra', 'arn:bad/health', (rows) => void (rows.containers[0]!.extra = '{"health":"SICK"}'), /container app: extra\.health is "SICK", not one of UNKNOWN, HEALTHY, UNHEALTHY/],
  ['task settings of the wrong type', 'arn:bad/settings', (rows) => void (rows.task!.extra = '{"settings":{"networkMode":"bridge","volumes":"none"}}'), /task: extra\.settings\.volumes must be an array, got "none"/],
  ['a reason code without its message', 'arn:bad/reason', (rows) => void (rows.containers[0]!.reason_code = 'ContainerExited'), /container app: reason_code and reason_message must be set together or all be NULL/],
  ['a flag that is neither 0 nor 1', 'arn:bad/flag', (rows) => void (rows.task!.cleaned_up = 2), /task: cleaned_up must be 0, 1 or NULL, got 2/],
];

describe('loadTasks quarantines what it cannot decode', () => {
  it.each(cases)('%s: moves it aside with its raw rows and loads the rest', async (_label, arn, edit, reason) => {
    let raw!: RawRows;
    await databaseWith((db) => void (raw = broken(arn, edit)(db)));
    const reports: QuarantineReport[] = [];
    const saver = open(reports);

    expect(await saver.loadTasks()).toStrictEqual(good());
    expect(reports).toEqual([{ arn, reason: expect.stringMatching(reason) }]);
    const [entry, ...more] = table('quarantine');
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ arn, reason: reports[0]!.reason, quarantined_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    // Verbatim, including the undecodable text, so an operator can repair and re-insert it.
    expect(JSON.parse(entry!.task_row as string)).toEqual(raw.task);
    expect(JSON.parse(entry!.container_rows as string)).toEqual(raw.containers);
    expect(table('tasks').map((r) => r.arn)).toEqual(good().map((t) => t.arn));
    expect(table('containers').map((r) => r.task_arn)).not.toContain(arn);

    // Nothing new on a second load, nor after a restart; the feed was not touched.
    expect(await saver.loadTasks()).toStrictEqual(good());
    await saver.close();
    const restarted = open(reports);
    expect(await restarted.loadTasks()).toStrictEqual(good());
    expect(reports).toHaveLength(1);
    expect(table('quarantine')).toHaveLength(1);
    expect((await restarted.eventsAfter(0, 10)).map((e) => e.taskArn)).toEqual(['a', 'b']);
  });

  it('quarantines every bad task of one database in one go, and keeps working', async () => {
    await databaseWith((db) => cases.forEach(([, arn, edit]) => broken(arn, edit)(db)));
    const reports: QuarantineReport[] = [];
    const saver = open(reports);
    expect(await saver.loadTasks()).toStrictEqual(good());
    expect(reports.map((r) => r.arn).sort()).toEqual(cases.map(([, arn]) => arn).sort());
    expect(reports.every((r) => r.moveFailed === undefined)).toBe(true);
    expect(table('quarantine')).toHaveLength(cases.length);
    expect(table('containers')).toHaveLength(3);
    // Their containers, if Docker still runs them, are not the agent's to remove.
    expect(await saver.unloadedArns()).toEqual(cases.map(([, arn]) => arn).sort());

    // A quarantined arn is free again: the control plane may send the task anew.
    const again = bareTask('arn:bad/half', 1_800_000_000_000);
    const [next] = await saver.commit({ put: [again], events: [event(again.arn)] });
    expect(next!.seq).toBe(3);
    expect(await saver.loadTasks()).toStrictEqual([...good(), again]);
  });

  it('takes the whole task when one of its containers is bad, with every container row', async () => {
    let raw!: RawRows;
    await databaseWith((db) => {
      raw = insertRows(db, fullTask('arn:bad/one-of-two'), (rows) => void (rows.containers[1]!.port_bindings = '{"not": "an array"}'));
    });
    const reports: QuarantineReport[] = [];
    expect(await open(reports).loadTasks()).toStrictEqual(good());
    expect(reports).toEqual([{ arn: 'arn:bad/one-of-two', reason: 'container a-sidecar: port_bindings must be an array, got {"not":"an array"}' }]);
    expect(JSON.parse(table('quarantine')[0]!.container_rows as string)).toEqual(raw.containers);
  });

  it('still starts when the move itself fails, skipping the task and moving it on a later load', async () => {
    await databaseWith((db) => {
      broken('arn:bad/half', (rows) => void (rows.containers = []))(db);
      // Stands in for a full disk or a read-only file: the write fails, the read did not.
      db.exec("CREATE TRIGGER no_room BEFORE INSERT ON quarantine BEGIN SELECT RAISE(ABORT, 'no room'); END");
    });
    const reports: QuarantineReport[] = [];
    const saver = open(reports);
    expect(await saver.loadTasks()).toStrictEqual(good());
    expect(reports).toEqual([{ arn: 'arn:bad/half', reason: expect.any(String), moveFailed: expect.stringMatching(/no room/) }]);
    expect(table('tasks').map((r) => r.arn)).toContain('arn:bad/half');
    expect(table('quarantine')).toEqual([]);
    expect(await saver.unloadedArns()).toEqual(['arn:bad/half']);

    const db = new Database(dir.path);
    db.exec('DROP TRIGGER no_room');
    db.close();
    expect(await saver.loadTasks()).toStrictEqual(good());
    expect(reports.at(-1)).toEqual({ arn: 'arn:bad/half', reason: reports[0]!.reason });
    expect(table('tasks').map((r) => r.arn)).not.toContain('arn:bad/half');
  });

  it('writes nothing when every row decodes', async () => {
    await databaseWith(() => {});
    const reports: QuarantineReport[] = [];
    const saver = open(reports);
    const before = fingerprint(dir.path);
    const walBefore = fingerprint(`${dir.path}-wal`);
    expect(await saver.loadTasks()).toStrictEqual(good());
    expect(reports).toEqual([]);
    expect(fingerprint(dir.path)).toBe(before);
    expect(fingerprint(`${dir.path}-wal`)).toBe(walBefore);
  });
});

describe('openStateReader with rows the agent would quarantine', () => {
  it('reports them as problems, returns every task it could decode, and writes nothing', async () => {
    await databaseWith((db) => cases.slice(0, 3).forEach(([, arn, edit]) => broken(arn, edit)(db)));
    const before = fingerprint(dir.path);
    const reader = openStateReader(dir.path);
    try {
      expect(reader.tasks).toStrictEqual(good());
      // Bad tasks in load order, then container rows without a task.
      expect(reader.problems).toEqual([
        { arn: 'arn:bad/half', reason: expect.stringMatching(cases[1]![3]) },
        { arn: 'arn:bad/json', reason: expect.stringMatching(cases[2]![3]) },
        { arn: 'arn:bad/orphan', reason: expect.stringMatching(cases[0]![3]) },
      ]);
      expect(reader.quarantined).toEqual([]);
    } finally {
      reader.close();
    }
    expect(fingerprint(dir.path)).toBe(before);
    expect(table('quarantine')).toEqual([]);
  });

  it('lists what the agent already quarantined, with its raw rows', async () => {
    let raw!: RawRows;
    await databaseWith((db) => void (raw = broken('arn:bad/half', (rows) => void (rows.containers = []))(db)));
    await open().loadTasks();
    const reader = openStateReader(dir.path);
    try {
      expect(reader.problems).toEqual([]);
      expect(reader.quarantined).toEqual([
        { arn: 'arn:bad/half', reason: expect.stringMatching(/half-written/), quarantinedAt: expect.any(String), taskRow: raw.task, containerRows: [] },
      ]);
    } finally {
      reader.close();
    }
  });
});

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PARSE_RULES_VERSION } from '../../../src/api/rules-version.js';
import { CONTAINER_DEFAULTS, containerDefinition, type TaskState } from '../../../src/api/task.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { newTaskState } from '../../../src/engine/task-state.js';
import { openSqliteSaver, type QuarantineReport, type SqliteSaver } from '../../../src/state/sqlite-saver.js';
import { bareTask, event, fullTask } from '../../contract/saver.contract.js';
import { AGENT_ID, running, trackedEngines, waitForTask } from '../../support/engine-harness.js';
import { taskDef } from '../../support/fixtures.js';
import { scratch, tamper } from '../../support/sqlite-tamper.js';

/*
 * A saved task is decoded by the stored model, not by the input rules of the build that loads it:
 * a rule tightened later must never quarantine a task that is already running.
 */

let dir: ReturnType<typeof scratch>;
const savers: SqliteSaver[] = [];
const engineFor = trackedEngines(afterEach);
beforeEach(() => {
  dir = scratch('berth-rules-');
});
afterEach(async () => {
  for (const saver of savers.splice(0)) await saver.close();
  dir.cleanup();
});

function open(reports: QuarantineReport[] = []): SqliteSaver {
  savers.push(openSqliteSaver(dir.path, { onQuarantine: (entry) => reports.push(entry) }));
  return savers.at(-1)!;
}

async function saved(tasks: TaskState[]): Promise<void> {
  const saver = open();
  await saver.commit({ put: tasks });
  await saver.close();
}

function edit(sql: string, ...params: unknown[]): void {
  const db = tamper(dir.path);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

function column<T>(sql: string): T[] {
  const db = new Database(dir.path, { readonly: true });
  try {
    return db.prepare(sql).pluck().all() as T[];
  } finally {
    db.close();
  }
}

describe('a saved definition is checked against the stored model, never against input bounds', () => {
  it('loads and runs a task that today\'s input rules would refuse', async () => {
    // Above the input limit of 3600 s, an image with capitals (refused by the reference grammar),
    // and an environment key that is not a shell name: all accepted by some earlier or looser rules.
    const image = 'registry.test:5000/Berth/BusyBox:latest';
    const definition = containerDefinition({ name: 'app', image, command: ['sleep', '300'], stopTimeout: 99999, environment: { 'not-a-shell-name': 'x' } });
    const task = newTaskState(taskDef('arn:rules/loose', [definition]), 1_700_000_000_000, AGENT_ID);
    await saved([task]);

    const reports: QuarantineReport[] = [];
    const saver = open(reports);
    const { engine, docker } = engineFor({ saver, docker: new FakeDocker({ images: [image] }) });
    await engine.start();
    const ran = await waitForTask(engine, task.arn, running);
    expect(reports).toEqual([]);
    expect(ran.containers[0]!.definition).toStrictEqual(definition);
    expect((await docker.inspectContainer(ran.containers[0]!.dockerId!)).image).toBe(image);
  });

  it('ignores a key it does not know, so a task saved by a newer build still loads', async () => {
    await saved([bareTask()]);
    // Adding a field needs no migration, so a build one field behind shares the schema version and
    // reads what the newer one saved. Ignoring the key keeps the task running after such a
    // downgrade; quarantining it would stop a task over a field this build could not honour anyway.
    // The cost: this build's next save of the task drops the key.
    edit("UPDATE containers SET definition = json_set(definition, '$.gpu', json('true')), extra = '{\"gpuCount\":3}'");
    edit("UPDATE tasks SET extra = json_set(extra, '$.shard', 2)");
    const reports: QuarantineReport[] = [];
    expect(await open(reports).loadTasks()).toStrictEqual([bareTask()]);
    expect(reports).toEqual([]);
  });

  it('fills what an older build did not save with the model\'s defaults', async () => {
    await saved([bareTask()]);
    edit("UPDATE containers SET definition = json_remove(definition, '$.cpu', '$.dependsOn', '$.ulimits', '$.linuxParameters'), extra = '{}'");
    edit("UPDATE tasks SET extra = '{}'");
    const [task] = await open().loadTasks();
    expect(task).toStrictEqual(bareTask());
    expect(task!.containers[0]!.definition).toMatchObject({ cpu: CONTAINER_DEFAULTS.cpu, dependsOn: [], ulimits: [] });
  });
});

describe('each task records the version of the parse rules it was accepted under', () => {
  it('stores this build\'s version for a new task and loads it back as absent', async () => {
    await saved([bareTask()]);
    expect(column<number>('SELECT rules FROM tasks')).toEqual([PARSE_RULES_VERSION]);
    const [task] = await open().loadTasks();
    expect(task && 'rules' in task).toBe(false);
  });

  it('keeps another version across loads and saves: it belongs to the definition, not to the build', async () => {
    await saved([bareTask()]);
    const other = PARSE_RULES_VERSION + 1;
    edit('UPDATE tasks SET rules = ?', other);
    const saver = open();
    const [task] = await saver.loadTasks();
    expect(task?.rules).toBe(other);
    await saver.commit({ put: [{ ...task!, desiredStatus: 'STOPPED', updatedAt: task!.updatedAt + 1 }] });
    expect(column<number>('SELECT rules FROM tasks')).toEqual([other]);
    expect((await saver.loadTasks())[0]).toMatchObject({ rules: other, desiredStatus: 'STOPPED' });
  });
});

describe('fields without a column of their own', () => {
  it('are kept in the extra JSON of their row, only the rows a commit changes being written', async () => {
    const saver = open();
    await saver.commit({ put: [fullTask(), bareTask()], events: [event(fullTask().arn, { type: 'container', containerName: 'z-app', health: 'HEALTHY' })] });
    const extras = (sql: string): unknown[] => column<string>(sql).map((text) => JSON.parse(text));
    expect(extras('SELECT extra FROM tasks ORDER BY created_at')).toEqual([
      { settings: fullTask().settings, provisionedVolumes: fullTask().provisionedVolumes },
      { settings: bareTask().settings, provisionedVolumes: [] },
    ]);
    expect(extras("SELECT extra FROM containers WHERE task_arn = 'arn:berth:task/full' ORDER BY position")).toEqual([{ health: 'UNHEALTHY' }, { health: 'HEALTHY' }]);
    expect(extras('SELECT extra FROM events')).toEqual([{ health: 'HEALTHY' }]);

    // A transition writes its own task's rows and no other (the same holds for the extras: each is in its row).
    edit('CREATE TABLE touched (arn TEXT)');
    for (const [table, arn] of [['tasks', 'arn'], ['containers', 'task_arn']]) {
      for (const op of ['INSERT', 'UPDATE', 'DELETE']) {
        const row = op === 'DELETE' ? 'OLD' : 'NEW';
        edit(`CREATE TRIGGER touched_${table}_${op} AFTER ${op} ON ${table} BEGIN INSERT INTO touched VALUES (${row}.${arn}); END`);
      }
    }
    await saver.commit({ put: [{ ...bareTask(), updatedAt: bareTask().updatedAt + 1 }] });
    expect(new Set(column('SELECT arn FROM touched'))).toEqual(new Set([bareTask().arn]));
  });
});

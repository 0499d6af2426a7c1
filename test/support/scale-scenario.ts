import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerDefinition } from '../../src/api/task.js';
import { startAgent, type RunningAgent } from '../../src/agent.js';
import { resolveConfig } from '../../src/config/config.js';
import { FakeDocker } from '../../src/docker/fake-docker.js';
import { silentLogger } from '../../src/log/logger.js';
import { openSqliteSaver } from '../../src/state/sqlite-saver.js';
import { IMAGE, taskDef } from './fixtures.js';
import { countSql, processWrites, type SqlCounts } from './sql-counter.js';

/** The work one run of the scale scenario did, counted. */
export interface ScaleCounts {
  readonly tasks: number;
  /** State changes the engine saved (task and container transitions). */
  readonly transitions: number;
  readonly dockerCalls: number;
  /** The fake Docker's own work (FakeDocker.work). */
  readonly fakeWork: number;
  readonly sql: SqlCounts;
  /** Bytes and write syscalls of the whole process, SQLite's file writes foremost. */
  readonly writes: { bytes: number; syscalls: number };
  readonly elapsedMs: number;
}

/** Two containers, one with a dynamic host port, like the benchmark's tasks. */
function scaleTask(i: number) {
  const arn = `arn:scale:task/t-${String(i).padStart(6, '0')}`;
  return taskDef(arn, [
    containerDefinition({ name: 'app', image: IMAGE, command: ['sleep', '300'], portMappings: [{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' }] }),
    containerDefinition({ name: 'side', image: IMAGE, command: ['sleep', '300'] }),
  ]);
}

/**
 * Resolves once `done()` holds: checked at every saved change, and every 10 ms for what no change
 * announces (a task's removal is saved before its last container leaves Docker).
 */
function until(agent: RunningAgent, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!done()) return;
      off();
      clearInterval(timer);
      resolve();
    };
    const off = agent.engine.subscribe(check);
    const timer = setInterval(check, 10);
    check();
  });
}

async function fanOut(n: number, clients: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < n) await work(next++);
  }));
}

/**
 * An agent on the fake Docker with a real SQLite file (synchronous=FULL): `tasks` two-container
 * tasks added by 20 clients, all RUNNING, all stopped, all cleaned up (no tasks, no containers),
 * with the work it took counted. Periodic passes (relist, retention, stats, image cleanup) are
 * pushed past the run so that only per-transition work is counted.
 */
export async function runScaleScenario(tasks: number): Promise<ScaleCounts> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-scale-'));
  const base = resolveConfig({ dataDir: join(dir, 'data') }, { env: {}, uid: 1000, home: dir });
  const hour = 3_600_000;
  const config = {
    ...base,
    taskCleanupWaitMs: 0,
    relistIntervalMs: hour,
    eventRetentionIntervalMs: hour,
    stats: { ...base.stats, intervalMs: hour },
    imageCleanup: { ...base.imageCleanup, enabled: false },
  };
  const docker = new FakeDocker({ images: [IMAGE] });
  await docker.pullImage(IMAGE);
  // Before the saver opens: its transaction functions are made then.
  const sql = countSql();
  const agent = await startAgent({ config, docker, saver: openSqliteSaver(config.databasePath), log: silentLogger(), defaultMetrics: false });
  let transitions = 0;
  const offCount = agent.engine.subscribe(() => transitions++);
  // Counted from the commits, not by asking the engine: a check that walked every task at every
  // change would make the test itself quadratic.
  const held = new Set<string>();
  const isRunning = new Set<string>();
  const offCommits = agent.engine.onCommit((arn, t) => {
    if (t) held.add(arn);
    else held.delete(arn);
    if (t?.knownStatus === 'RUNNING') isRunning.add(arn);
    else isRunning.delete(arn);
  });
  const sql0 = { ...sql.counts };
  const calls0 = docker.calls.length;
  const work0 = docker.work;
  const writes0 = processWrites();
  const started = performance.now();
  try {
    const running = until(agent, () => isRunning.size >= tasks);
    await fanOut(tasks, 20, (i) => agent.engine.addTask({ kind: 'definition', task: scaleTask(i) }));
    await running;
    const cleaned = until(agent, () => held.size === 0 && docker.containerCount() === 0);
    await fanOut(tasks, 20, (i) => agent.engine.addTask({ kind: 'desired-status', arn: scaleTask(i).arn, desiredStatus: 'STOPPED' }));
    await cleaned;
    const writes1 = processWrites();
    return {
      tasks,
      transitions,
      dockerCalls: docker.calls.length - calls0,
      fakeWork: docker.work - work0,
      sql: {
        statements: sql.counts.statements - sql0.statements,
        transactions: sql.counts.transactions - sql0.transactions,
        rowsChanged: sql.counts.rowsChanged - sql0.rowsChanged,
        boundBytes: sql.counts.boundBytes - sql0.boundBytes,
      },
      writes: { bytes: writes1.bytes - writes0.bytes, syscalls: writes1.syscalls - writes0.syscalls },
      elapsedMs: performance.now() - started,
    };
  } finally {
    sql.stop();
    offCount();
    offCommits();
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

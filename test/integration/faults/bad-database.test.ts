import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { latestSchemaVersion } from '../../../src/state/migrate.js';
import { bareTask } from '../../contract/saver.contract.js';
import { docker, runCli } from '../../support/agent-process.js';
import { relistPasses } from '../../support/agent-metrics.js';
import { useFaultAgents, type FaultAgent } from '../../support/fault-agents.js';
import { fingerprint, insertRows, tamper } from '../../support/sqlite-tamper.js';
import { TEST_IMAGE } from '../global-setup.js';

const faults = useFaultAgents('baddb');

const good = `arn:baddb/${process.pid}/good`;

/** A data directory whose agent ran these tasks (one container each) on Docker and was then stopped with `signal`. */
async function agentStoppedWithTasks(name: string, arns: readonly string[], signal: NodeJS.Signals = 'SIGKILL'): Promise<{ agent: FaultAgent; dataDir: string; db: string }> {
  // Fast relists and a short grace: an orphan would be removed within the test.
  const agent = await faults.started(name, ['--relist-interval', '1s', '--orphan-grace', '1s']);
  for (const arn of arns) {
    await agent.client.post('/v1/tasks', { arn, family: 'baddb', version: '1', containers: [{ name: 'app', image: TEST_IMAGE, command: ['sleep', '600'], stopTimeout: 1 }] });
    await agent.waitForTask(arn, (t) => t?.knownStatus === 'RUNNING');
  }
  await agent.stop(signal);
  return { agent, dataDir: agent.dataDir, db: join(agent.dataDir, 'state.db') };
}

it("orphan container rows, a half-written task and a broken definition are logged and quarantined; the agent starts, keeps its good task and leaves the broken task's container alone", async () => {
  const broken = `${good}-broken`;
  const { agent, dataDir, db } = await agentStoppedWithTasks('orphans', [good, broken]);
  const brokenId = docker('ps', '-q', '--no-trunc', '--filter', `label=berth.task-arn=${broken}`);
  const raw = tamper(db);
  insertRows(raw, bareTask(`${good}-half`), (rows) => void (rows.containers = []));
  insertRows(raw, bareTask(`${good}-orphan`), (rows) => void (rows.task = null));
  raw.prepare(`UPDATE containers SET definition = '{"name": "app", "ima' WHERE task_arn = ?`).run(broken);
  raw.close();
  const before = runCli(['state', 'dump', '--json', '--data-dir', dataDir]);
  expect(before.code).toBe(0);
  expect((JSON.parse(before.stdout) as { problems: unknown[] }).problems).toHaveLength(3);

  await agent.start();
  expect((await agent.client.get('/v1/health')).status).toBe(200);
  await agent.waitForLog(/Task quarantined: its saved rows cannot be loaded.*-half/);
  await agent.waitForLog(/Task quarantined: its saved rows cannot be loaded.*-orphan/);
  const kept = (await agent.task(good))!;
  expect(kept.knownStatus).toBe('RUNNING');
  expect(docker('inspect', '-f', '{{.State.Running}}', kept.containers[0]!.dockerId!)).toBe('true');
  // The relist has seen the quarantined task's container and said it leaves it alone. Were it
  // treated as an orphan, it would be removed on the first pass past the grace (1 s, one interval):
  // two more passes prove the agent got past that point.
  await agent.waitForLog(/Leaving alone a container of a task whose saved rows could not be loaded.*-broken/);
  await relistPasses(agent.client, 2, () => agent.log().slice(-4000));
  expect(docker('inspect', '-f', '{{.State.Running}}', brokenId)).toBe('true');
  expect(agent.log()).not.toMatch(/Removed a container no task accounts for/);
  const after = JSON.parse(runCli(['state', 'dump', '--json', '--data-dir', dataDir]).stdout) as { problems: unknown[]; quarantined: Array<{ arn: string }> };
  expect(after.problems).toEqual([]);
  expect(after.quarantined.map((q) => q.arn).sort()).toEqual([broken, `${good}-half`, `${good}-orphan`]);
});

it('a database written by a newer schema: agent run exits 5 naming both versions and leaves the file as it was', async () => {
  const { agent, dataDir, db } = await agentStoppedWithTasks('future', [good]);
  const raw = tamper(db);
  const version = latestSchemaVersion() + 1;
  raw.prepare("INSERT INTO schema_migrations VALUES (?, 'future', '2030-01-01T00:00:00Z')").run(version);
  raw.close();
  const print = fingerprint(db);
  const run = runCli(['run', '--data-dir', dataDir, '--log-level', 'error']);
  expect(run.code).toBe(EXIT.state);
  expect(run.stderr).toContain(`schema version ${version}, but this agent supports up to ${version - 1}`);
  expect(fingerprint(db)).toBe(print);
  // The container it ran is still there for a newer agent to adopt.
  expect(docker('ps', '-q', '--filter', `label=berth.agent-id=${agent.agentId}`).split('\n').filter(Boolean)).toHaveLength(1);
});

it('a truncated database: agent run exits 5 with a message naming the file, and state dump says what it could read', async () => {
  // Stopped cleanly, so every page is in the main file (after a kill they may still be in the WAL,
  // and cutting the main file short would then lose nothing).
  const { dataDir, db } = await agentStoppedWithTasks('truncated', [good], 'SIGTERM');
  expect(existsSync(`${db}-wal`)).toBe(false);
  const full = readFileSync(db);
  writeFileSync(db, full.subarray(0, 1000));
  const run = runCli(['run', '--data-dir', dataDir, '--log-level', 'error']);
  expect(run.code).toBe(EXIT.state);
  expect(run.stderr).toContain(`state database ${db} is not a readable berth database`);
  expect(readFileSync(db)).toHaveLength(1000);
  const dump = runCli(['state', 'dump', '--data-dir', dataDir]);
  expect(dump.code).toBe(EXIT.state);
  expect(dump.stderr).toMatch(/header {10}read: SQLite 3, page size \d+, \d+ page\(s\) by its header, file 1000 bytes: shorter than/);
});

import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import type { DumpDocument } from '../../../src/cli/render/dump.js';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { parseConfigDocument } from '../../../src/routes/route-config.js';
import { latestSchemaVersion } from '../../../src/state/migrate.js';
import type { InProcessAgent } from '../../support/in-process-agent.js';
import { taskBody } from '../../support/in-process-agent.js';
import { bareTask } from '../../contract/saver.contract.js';
import { insertRows, rootPage, tamper } from '../../support/sqlite-tamper.js';
import { cli, NO_RETRIES, sqliteAgent } from './support.js';
import { IMAGE } from '../../support/fixtures.js';

let dataDir: string;
let a: InProcessAgent | undefined;
let gates: Array<() => void>;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'berth-cli-dump-'));
  gates = [];
});
afterEach(async () => {
  gates.forEach((release) => release());
  await a?.dispose();
  a = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

const dump = (...args: string[]) => cli(['state', 'dump', '--data-dir', dataDir, ...args]);

/** One task RUNNING, one crashed (STOPPED, exit 3), one held in its pull. */
async function agentWithTasks(): Promise<InProcessAgent> {
  a = await sqliteAgent(dataDir, NO_RETRIES);
  await a.client.post('/v1/tasks', taskBody('arn:dump:running'));
  await a.untilStatus('arn:dump:running', 'RUNNING');
  await a.client.post('/v1/tasks', taskBody('arn:dump:crashed', { family: 'batch' }));
  const crashed = await a.untilStatus('arn:dump:crashed', 'RUNNING');
  a.docker.crash(crashed.containers[0]!.dockerId!, 3);
  await a.untilStatus('arn:dump:crashed', 'STOPPED');
  let release!: () => void;
  a.docker.delayNext('pull', new Promise<void>((r) => (release = r)));
  gates.push(release);
  await a.client.post('/v1/tasks', taskBody('arn:dump:stuck'));
  await new Promise((r) => setTimeout(r, 50));
  return a;
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('agent state dump', () => {
  it('summarizes the database, the saved configuration and every task with its containers', async () => {
    const agent = await agentWithTasks();
    const running = (await agent.client.get<{ containers: Array<{ dockerId: string }> }>('/v1/tasks?taskarn=arn:dump:running')).body;
    const run = await dump();
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toContain(`database     ${join(dataDir, 'state.db')} (schema v`);
    expect(out).toContain(`agent id     ${agent.agent!.agentId}`);
    expect(out).toMatch(/^events {7}\d+ kept, last seq \d+$/m);
    expect(out).toMatch(/^tasks {8}3$/m);
    expect(out).toContain('configuration (as the agent last started)');
    expect(out).toMatch(new RegExp(`^  dataDir\\s+${dataDir}$`, 'm'));
    expect(out).toMatch(/^task arn:dump:running {2}api:3 {2}known RUNNING {2}desired RUNNING {2}health UNKNOWN {2}age \d+s$/m);
    expect(out).toMatch(new RegExp(`^  web\\s+${running.containers[0]!.dockerId.slice(0, 12)}\\s+RUNNING\\s+RUNNING\\s+-\\s+-\\s+0\\s+127\\.0\\.0\\.1:\\d+->80/tcp\\s+-$`, 'm'));
    expect(out).toMatch(/^task arn:dump:crashed {2}batch:3 {2}known STOPPED {2}desired STOPPED/m);
    expect(out).toMatch(/^ {2}web\s+[0-9a-f]{12}\s+STOPPED\s+STOPPED\s+-\s+3\s+.*ContainerExited: container web exited with exit code 3$/m);
    expect(out).not.toContain('STUCK');
  });

  it("lists each route's saved cursor, lag, counters and last error; the config shows webhook header names, never values", async () => {
    const { routes } = parseConfigDocument('test', {
      routes: [
        { name: 'audit', backend: { type: 'file', path: join(dataDir, 'audit.ndjson') } },
        { name: 'hook', backend: { type: 'webhook', url: 'http://127.0.0.1:9/hook', headers: { Authorization: 'Bearer s3cr3t' }, timeout: '100ms' }, retry: { initial: '10ms', max: '20ms' } },
      ],
    });
    a = await sqliteAgent(dataDir, { routes });
    await a.client.post('/v1/tasks', taskBody('arn:dump:routed'));
    await a.untilStatus('arn:dump:routed', 'RUNNING');
    await vi.waitFor(() => expect(a!.agent!.engine.lastEventSeq()).toBeGreaterThan(0));
    const routeStatus = async (name: string) => (await a!.client.get<{ routes: Array<{ name: string; lag: number; failures: number }> }>('/v1/routes')).body.routes.find((r) => r.name === name)!;
    await vi.waitFor(async () => expect((await routeStatus('audit')).lag).toBe(0));
    await vi.waitFor(async () => expect((await routeStatus('hook')).failures).toBeGreaterThan(0));
    await a.stop();
    const doc = JSON.parse((await dump('--json')).stdout) as DumpDocument;
    expect(doc.routes.map((r) => [r.name, r.lag, r.delivered])).toEqual([['audit', 0, 1], ['hook', doc.lastSeq - doc.routes[1]!.seq, 0]]);
    expect(doc.routes[1]!.lag).toBeGreaterThan(0);
    expect(doc.routes[1]!.lastError?.message).toContain('POST http://127.0.0.1:9/hook failed');
    const text = (await dump()).stdout;
    expect(text).toMatch(/^routes {7}2$/m);
    expect(text).toMatch(new RegExp(`^  audit\\s+${doc.lastSeq}\\s+0\\s+1\\s+0\\s+0\\s+0\\s+-$`, 'm'));
    expect(text).not.toContain('s3cr3t');
    expect(text).toContain('Authorization');
  });

  it('flags a task that has not moved toward its desired status for --stuck-after', async () => {
    await agentWithTasks();
    const run = await dump('--stuck-after', '10ms');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^tasks {8}3, 1 STUCK \(no progress for 10ms or more\)$/m);
    expect(run.stdout).toMatch(/^task arn:dump:stuck {2}api:3 {2}known NONE {2}desired RUNNING {2}health UNKNOWN {2}age \d+s {2}STUCK \d+s \(NONE -> RUNNING\)$/m);
    expect(run.stdout.match(/STUCK \d/g)).toHaveLength(1);
  });

  it('uses a 5 minute threshold by default and says how long the task has been stuck', async () => {
    await agentWithTasks();
    const later = Date.now() + 7 * 60_000 + 5_000;
    const run = await cli(['state', 'dump', '--data-dir', dataDir], { now: () => later });
    expect(run.stdout).toMatch(/^task arn:dump:stuck .* {2}STUCK 7m \(NONE -> RUNNING\)$/m);
    const soon = await cli(['state', 'dump', '--data-dir', dataDir], { now: () => Date.now() + 4 * 60_000 });
    expect(soon.stdout).not.toContain('STUCK');
  });

  it('--json and --yaml print the same document, with the stuck flag for machines', async () => {
    const agent = await agentWithTasks();
    const now = Date.now() + 60_000;
    const json = JSON.parse((await cli(['state', 'dump', '--data-dir', dataDir, '--json', '--stuck-after', '30s'], { now: () => now })).stdout) as DumpDocument;
    const yamlRun = await cli(['state', 'dump', '--data-dir', dataDir, '--yaml', '--stuck-after', '30s'], { now: () => now });
    expect(yamlRun.code).toBe(0);
    expect(parse(yamlRun.stdout)).toEqual(json);
    expect(json).toMatchObject({ database: join(dataDir, 'state.db'), agentId: agent.agent!.agentId, stuckAfterMs: 30_000 });
    expect(json.config).toMatchObject({ dataDir, reconcileConcurrency: 8 });
    expect(json.lastSeq).toBeGreaterThan(0);
    const byArn = new Map(json.tasks.map((t) => [t.arn, t]));
    expect(byArn.get('arn:dump:running')).toMatchObject({ knownStatus: 'RUNNING', stuck: null });
    expect(byArn.get('arn:dump:crashed')!.containers[0]).toMatchObject({ exitCode: 3, reason: 'ContainerExited' });
    expect(byArn.get('arn:dump:stuck')!.stuck).toMatchObject({ from: 'NONE', to: 'RUNNING' });
    expect(byArn.get('arn:dump:stuck')!.stuck!.forMs).toBeGreaterThanOrEqual(60_000);
    expect((await dump('--json', '--yaml')).code).toBe(EXIT.usage);
  });

  it('never writes the database: the file is byte for byte the same after a dump', async () => {
    await agentWithTasks();
    gates.forEach((release) => release());
    await a!.stop();
    const db = join(dataDir, 'state.db');
    const before = sha256(db);
    for (const args of [[], ['--json'], ['--yaml']]) expect((await dump(...args)).code).toBe(0);
    expect(sha256(db)).toBe(before);
    // SQLite's read-only WAL access may create the -wal/-shm companions, but nothing goes into the log.
    const wal = `${db}-wal`;
    if (existsSync(wal)) expect(statSync(wal).size).toBe(0);
  });

  it('works while the agent runs and after it stopped', async () => {
    await agentWithTasks();
    expect((await dump()).stdout).toContain('task arn:dump:running');
    gates.forEach((release) => release());
    await a!.stop();
    expect((await dump()).stdout).toContain('task arn:dump:running');
  });

  it('exits 5 with a clear message when the database is missing or not a database', async () => {
    const missing = await dump();
    expect(missing.code).toBe(EXIT.state);
    expect(missing.stderr).toBe(`agent: cannot read the state database: no state database at ${join(dataDir, 'state.db')}\n`);
    expect(readdirSync(dataDir)).toEqual([]);

    writeFileSync(join(dataDir, 'state.db'), 'this is not sqlite, just some text that is long enough to have a header'.repeat(20));
    const corrupt = await dump('--json');
    expect(corrupt.code).toBe(EXIT.state);
    expect(corrupt.stdout).toBe('');
    expect(corrupt.stderr).toMatch(/^agent: cannot read the state database: state database .*state\.db is not a readable berth database \(file is not a database, SQLITE_NOTADB\)/);
    expect(corrupt.stderr).toContain('\n  header          failed: the file (1420 bytes) does not start with an SQLite 3 header\n');
  });

  it('exits 5 on a database from a newer schema, naming both versions, and leaves it alone', async () => {
    const db = await stoppedAgentDatabase();
    const raw = tamper(db);
    const version = latestSchemaVersion() + 1;
    raw.prepare("INSERT INTO schema_migrations VALUES (?, 'future', '2030-01-01T00:00:00Z')").run(version);
    raw.close();
    const before = sha256(db);
    const run = await dump('--json');
    expect(run.code).toBe(EXIT.state);
    expect(run.stderr).toBe(
      `agent: cannot read the state database: the state database has schema version ${version}, ` +
        `but this agent supports up to ${version - 1}; run a newer agent or restore a backup\n`,
    );
    expect(sha256(db)).toBe(before);
  });

  it('exits 5 on a truncated file, saying what it could read before the damage', async () => {
    const db = await stoppedAgentDatabase();
    const full = readFileSync(db);
    writeFileSync(db, full.subarray(0, 1000));
    for (const args of [[], ['--json'], ['--yaml']]) {
      const run = await dump(...args);
      expect(run.code).toBe(EXIT.state);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`agent: cannot read the state database: state database ${db} is not a readable berth database (`);
      expect(run.stderr).toMatch(/SQLITE_CORRUPT\); restore a backup/);
      expect(run.stderr).toContain(`\n  header          read: SQLite 3, page size 4096, ${full.length / 4096} page(s) by its header, file 1000 bytes: shorter than the ${full.length} bytes the header describes (truncated?)\n`);
      expect(run.stderr).toMatch(/\n {2}schema version {2}failed: database disk image is malformed, SQLITE_CORRUPT\n {2}meta {12}not read\n {2}tasks {11}not read\n {2}images {10}not read\n {2}events {10}not read\n/);
    }
  });

  it('exits 5 when one table is damaged, listing every part it could still read', async () => {
    const db = await stoppedAgentDatabase();
    const { pageSize, page } = rootPage(db, 'tasks');
    const fd = openSync(db, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0xee), 0, pageSize, (page - 1) * pageSize);
    closeSync(fd);
    const run = await dump();
    expect(run.code).toBe(EXIT.state);
    expect(run.stderr).toMatch(/\n {2}schema version {2}read: \d+\n {2}meta {12}read: 2 key\(s\)\n {2}tasks {11}failed: .*SQLITE_CORRUPT\n {2}images {10}read: \d+ image\(s\)\n {2}events {10}read: \d+ kept, last seq \d+\n {2}integrity {7}failed: /);
  });

  it('lists rows the agent cannot load as problems, and once the agent started, as quarantined', async () => {
    const db = await stoppedAgentDatabase();
    const raw = tamper(db);
    insertRows(raw, bareTask('arn:dump:half'), (rows) => void (rows.containers = []));
    insertRows(raw, bareTask('arn:dump:orphan'), (rows) => void (rows.task = null));
    raw.close();

    const human = await dump();
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^tasks {8}3$/m);
    expect(human.stdout).toContain('\nproblems     2 task(s) cannot be loaded; the agent moves them to the quarantine table at its next start\n');
    expect(human.stdout).toMatch(/^ {2}arn:dump:half {4}half-written task: the task row has no container rows$/m);
    expect(human.stdout).toMatch(/^ {2}arn:dump:orphan {2}1 container row\(s\) \(app\) whose task row is missing$/m);
    const json = JSON.parse((await dump('--json')).stdout) as DumpDocument;
    expect(json.problems).toEqual([
      { arn: 'arn:dump:half', reason: 'half-written task: the task row has no container rows' },
      { arn: 'arn:dump:orphan', reason: '1 container row(s) (app) whose task row is missing' },
    ]);
    expect(json.quarantined).toEqual([]);
    expect(parse((await dump('--yaml')).stdout)).toEqual(json);

    // The agent starts on this file regardless, moves the rows aside, and keeps the good tasks.
    a = await sqliteAgent(dataDir, NO_RETRIES);
    expect((await a.client.get('/v1/tasks?taskarn=arn:dump:running')).status).toBe(200);
    expect((await a.client.get('/v1/tasks?taskarn=arn:dump:half')).status).toBe(404);
    const after = JSON.parse((await dump('--json')).stdout) as DumpDocument;
    expect(after.problems).toEqual([]);
    expect(after.quarantined).toEqual(json.problems.map((p) => ({ ...p, quarantinedAt: expect.stringMatching(/^\d{4}-/) })));
    const text = (await dump()).stdout;
    expect(text).toContain('\nquarantined  2 task(s) set aside by the agent; sqlite3 shows their rows: SELECT * FROM quarantine\n');
    expect(text).not.toContain('\nproblems ');
  });

  it('shows a task waiting for host resources with what it waits for, not as STUCK, and the host in the configuration', async () => {
    a = await sqliteAgent(dataDir, { host: { cpus: 2, memoryMiB: 1024 }, reservedMemoryMiB: 24 });
    const sized = (arn: string, memory: number) => ({
      arn,
      family: 'sized',
      revision: 1,
      containerDefinitions: [{ name: 'app', image: IMAGE, command: ['sleep', '300'], memory }],
    });
    await a.client.post('/v1/tasks', sized('arn:dump:big', 900));
    await a.untilStatus('arn:dump:big', 'RUNNING');
    await a.client.post('/v1/tasks', sized('arn:dump:queued', 200));
    const run = await dump('--stuck-after', '1ms');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^tasks {8}2, 1 waiting for resources$/m);
    expect(run.stdout).toMatch(
      /^task arn:dump:queued {2}sized:1 {2}known NONE {2}desired RUNNING {2}health UNKNOWN {2}age \d+s {2}WaitingForResources: needs 200 MiB memory, 0 CPU units; free: 100 MiB, 2048 CPU units$/m,
    );
    expect(run.stdout).toMatch(/^ {2}host +\{"cpus":2,"memoryMiB":1024\}$/m);
    expect(run.stdout).toMatch(/^ {2}reservedMemoryMiB +24$/m);
    const doc = JSON.parse((await dump('--json')).stdout) as DumpDocument;
    expect(doc.tasks.find((t) => t.arn === 'arn:dump:queued')).toMatchObject({ reason: 'WaitingForResources', stuck: null });
  });
});

/** The agent's database after it ran three tasks and stopped (closing checkpoints everything into the file). */
async function stoppedAgentDatabase(): Promise<string> {
  await agentWithTasks();
  gates.forEach((release) => release());
  await a!.stop();
  await a!.dispose();
  a = undefined;
  return join(dataDir, 'state.db');
}

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { docker, type AgentProcess } from '../../support/agent-process.js';
import { relistPasses } from '../../support/agent-metrics.js';
import { expectCleanFeed, expectStateMatchesDocker, readFeed } from '../../support/docker-truth.js';
import { useFaultAgents, type FaultAgent } from '../../support/fault-agents.js';
import { until } from '../../support/until.js';
import { TEST_IMAGE } from '../global-setup.js';

const faults = useFaultAgents('full');
// A small filesystem of the test's own under the state database, so filling it touches nothing else.
const mountPoint = mkdtempSync(join(tmpdir(), 'berth-full-'));
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountPoint], { stdio: 'pipe' });
// The agents are stopped and their data removed after each test, before this runs.
afterAll(() => {
  execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
  rmSync(mountPoint, { recursive: true, force: true });
});

const taskBody = (arn: string) => ({
  arn,
  family: 'full',
  version: '1',
  containers: ['web', 'side'].map((name) => ({ name, image: TEST_IMAGE, command: ['sleep', '600'], essential: name === 'web', stopTimeout: 1 })),
});

let fillerCount = 0;

/** Writes filler files (new names each call) until the filesystem refuses another byte; returns them, to free later. */
function fill(dir: string): string[] {
  const files: string[] = [];
  for (const size of [1 << 20, 64 << 10, 4 << 10]) {
    for (;;) {
      const file = join(dir, `filler-${fillerCount++}`);
      try {
        writeFileSync(file, Buffer.alloc(size));
        files.push(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        rmSync(file, { force: true });
        break;
      }
    }
  }
  return files;
}

/** This agent's containers as Docker sees them: ID and state, sorted. */
const dockerView = (agentId: string): string =>
  docker('ps', '-a', '--no-trunc', '--filter', `label=berth.agent-id=${agentId}`, '--format', '{{.ID}} {{.State}}').split('\n').sort().join('\n');

/** Docker calls that act on or read a container, from the agent's own metrics (pings and lists left out). */
async function containerCalls(a: AgentProcess): Promise<number> {
  const text = (await a.client.get<string>('/metrics')).body;
  const counts = [...text.matchAll(/^berth_docker_api_duration_seconds_count\{call="(\w+)"\} (\d+)/gm)];
  return counts.filter(([, call]) => ['pull', 'create', 'start', 'stop', 'remove', 'inspect'].includes(call!)).reduce((n, [, , v]) => n + Number(v), 0);
}

const arn = (name: string): string => `arn:full/${process.pid}/${name}`;

/** Since when health says writes fail, or undefined while they succeed. */
async function failingSince(a: AgentProcess): Promise<string | undefined> {
  const h = await a.client.get<{ checks: { database: { ok: boolean; detail?: string } } }>('/v1/health');
  return h.status === 503 ? /\(since ([^)]+)\)/.exec(h.body.checks.database.detail ?? '')?.[1] : undefined;
}

/**
 * A window of three relist passes (about 3 s) inside one failure episode (health names the same
 * `since` at both ends): no Docker call about a container in it, and Docker's containers
 * unchanged. Tries a few windows, because a write that squeezes into SQLite's slack ends an
 * episode early.
 */
async function pausedWindow(a: FaultAgent): Promise<{ calls: number }> {
  const context = () => `--- agent log ---\n${a.log().slice(-4000)}`;
  for (let attempt = 0; attempt < 10; attempt++) {
    const since = await until('health reporting failing writes', () => failingSince(a), { context });
    // Steps already acting when the episode began may still be finishing their Docker calls: the
    // window opens once a whole relist pass went by without one.
    await until('the steps in flight to finish their Docker calls', async () => {
      const calls = await containerCalls(a);
      await relistPasses(a.client, 1, context);
      return (await containerCalls(a)) === calls;
    }, { ms: 60_000, context });
    const first = { docker: dockerView(a.agentId), calls: await containerCalls(a) };
    await relistPasses(a.client, 3, context);
    const second = { docker: dockerView(a.agentId), calls: await containerCalls(a) };
    if ((await failingSince(a)) !== since) continue;
    expect(second).toEqual(first);
    return first;
  }
  throw new Error(`writes never kept failing for three relist passes in a row\n${context()}`);
}

it('on a full disk the agent refuses what it cannot save with 503, makes no Docker call while writes fail, survives a crash and restart, and recovers with nothing lost when space returns', async () => {
  const agent = await faults.started('data', ['--relist-interval', '1s'], { dataDir: join(mountPoint, 'data') });
  expect((await agent.client.post('/v1/tasks', taskBody(arn('steady')))).status).toBe(201);
  await agent.waitForTask(arn('steady'), (t) => t?.knownStatus === 'RUNNING');

  // Work in flight when the disk fills: these two are being pulled, created and started.
  for (const name of ['rising-1', 'rising-2']) expect((await agent.client.post('/v1/tasks', taskBody(arn(name)))).status).toBe(201);
  const fillers = fill(mountPoint);

  // A write that fails part-way can leave SQLite a little room inside its own WAL file, so a small
  // write may still succeed for a while after the disk is full: what is refused, and when, varies.
  // What must hold: a refused request changes nothing, and while writes keep failing (one failure
  // episode, one `since`), the agent makes no Docker call at all.
  const accepted: string[] = [];
  let refused: { name: string; message: string } | undefined;
  for (let k = 0; k < 20 && !refused; k++) {
    const res = await agent.client.post<{ error: { code: string; message: string } }>('/v1/tasks', taskBody(arn(`new-${k}`)));
    if (res.status === 201) accepted.push(`new-${k}`);
    else {
      expect([res.status, res.body.error.code]).toEqual([503, 'PersistenceError']);
      refused = { name: `new-${k}`, message: res.body.error.message };
    }
  }
  expect(refused?.message).toContain('SQLITE_FULL');
  const paused = await pausedWindow(agent);
  expect(paused.calls).toBeGreaterThan(0);
  const stop = await agent.client.post('/v1/tasks', { arn: arn('steady'), desiredStatus: 'STOPPED' });
  expect([200, 503]).toContain(stop.status);
  const stopRefused = stop.status === 503;

  // A crash while the disk is full, and a restart still on it: the agent starts and serves.
  await agent.stop('SIGKILL');
  await agent.start({ healthy: false });
  fillers.push(...fill(mountPoint));
  expect((await agent.task(arn('steady')))?.knownStatus).toBeDefined();

  for (const f of fillers) rmSync(f);
  await agent.waitForTask(arn('rising-1'), (t) => t?.knownStatus === 'RUNNING');
  await agent.waitForTask(arn('rising-2'), (t) => t?.knownStatus === 'RUNNING');
  for (const name of accepted) await agent.waitForTask(arn(name), (t) => t?.knownStatus === 'RUNNING');
  await until('health 200 once space is back', async () => (await agent.client.get('/v1/health')).status === 200, { context: () => agent.log().slice(-4000) });
  // The refused requests changed nothing: the task was not made, the stop did not happen.
  expect(await agent.task(arn(refused!.name))).toBeUndefined();
  if (stopRefused) expect((await agent.task(arn('steady')))!.knownStatus).toBe('RUNNING');
  expect((await agent.client.post('/v1/tasks', taskBody(arn(refused!.name)))).status).toBe(201);
  expect((await agent.client.post('/v1/tasks', { arn: arn('steady'), desiredStatus: 'STOPPED' })).status).toBe(200);
  await agent.waitForTask(arn(refused!.name), (t) => t?.knownStatus === 'RUNNING');
  await agent.waitForTask(arn('steady'), (t) => t?.knownStatus === 'STOPPED');

  // Nothing lost: a crash now and a restart bring back the same tasks, containers and feed.
  const names = ['steady', 'rising-1', 'rising-2', ...accepted, refused!.name].map(arn);
  const before: TaskView[] = await Promise.all(names.map(async (a) => (await agent.task(a))!));
  const feedBefore = await readFeed(agent.client);
  await agent.stop('SIGKILL');
  await agent.start();
  const after: TaskView[] = await Promise.all(names.map(async (a) => (await agent.task(a))!));
  expect(after).toEqual(before);
  expect(await readFeed(agent.client)).toEqual(feedBefore);
  expectStateMatchesDocker(agent.agentId, after);
  expectCleanFeed(feedBefore);
}, 180_000);

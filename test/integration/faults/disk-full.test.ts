import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { AgentProcess, docker, removeContainersOf } from '../../support/agent-process.js';
import { expectCleanFeed, expectStateMatchesDocker, readFeed } from '../../support/docker-truth.js';
import { TEST_IMAGE } from '../global-setup.js';

// A small filesystem of the test's own under the state database, so filling it touches nothing else.
const mountPoint = mkdtempSync(join(tmpdir(), 'berth-full-'));
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountPoint], { stdio: 'pipe' });
const dataDir = join(mountPoint, 'data');
let agent: AgentProcess | undefined;
let agentId = '';
afterAll(async () => {
  await agent?.stop('SIGTERM');
  removeContainersOf(agentId);
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
const dockerView = (): string =>
  docker('ps', '-a', '--no-trunc', '--filter', `label=berth.agent-id=${agentId}`, '--format', '{{.ID}} {{.State}}').split('\n').sort().join('\n');

/** Docker calls that act on or read a container, from the agent's own metrics (pings and lists left out). */
async function containerCalls(a: AgentProcess): Promise<number> {
  const text = (await a.client.get<string>('/metrics')).body;
  const counts = [...text.matchAll(/^berth_docker_api_duration_seconds_count\{call="(\w+)"\} (\d+)/gm)];
  return counts.filter(([, call]) => ['pull', 'create', 'start', 'stop', 'remove', 'inspect'].includes(call!)).reduce((n, [, , v]) => n + Number(v), 0);
}

const arn = (name: string): string => `arn:full/${process.pid}/${name}`;

it('on a full disk the agent refuses new work with 503, stops acting on Docker, survives a crash and restart, and recovers with nothing lost when space returns', async () => {
  agent = new AgentProcess(dataDir, ['--relist-interval', '1s']);
  await agent.start();
  agentId = (await agent.client.get<{ agentId: string }>('/v1/metadata')).body.agentId;
  expect((await agent.client.post('/v1/tasks', taskBody(arn('steady')))).status).toBe(201);
  await agent.waitForTask(arn('steady'), (t) => t?.knownStatus === 'RUNNING');

  // Work in flight when the disk fills: these two are being pulled, created and started.
  for (const name of ['rising-1', 'rising-2']) expect((await agent.client.post('/v1/tasks', taskBody(arn(name)))).status).toBe(201);
  const fillers = fill(mountPoint);

  const refused = await agent.client.post<{ error: { code: string; message: string } }>('/v1/tasks', taskBody(arn('refused')));
  expect(refused.status).toBe(503);
  expect(refused.body.error).toMatchObject({ code: 'PersistenceError', message: expect.stringContaining('SQLITE_FULL') });
  const stop = await agent.client.post<{ error: { code: string } }>('/v1/tasks', { arn: arn('steady'), desiredStatus: 'STOPPED' });
  expect(stop.status).toBe(503);
  const health = await agent.client.get<{ checks: { database: { ok: boolean; detail: string } } }>('/v1/health');
  expect(health.status).toBe(503);
  expect(health.body.checks.database.detail).toMatch(/^writes failing for \d+ s: .*SQLITE_FULL/);

  // Steps already acting when the first write failed finish; after that the agent makes no Docker
  // call about a container at all, and Docker's containers stay as they are.
  await new Promise((r) => setTimeout(r, 1_500));
  const paused = { docker: dockerView(), calls: await containerCalls(agent) };
  await new Promise((r) => setTimeout(r, 3_000));
  expect({ docker: dockerView(), calls: await containerCalls(agent) }).toEqual(paused);
  expect(paused.calls).toBeGreaterThan(0);
  expect(docker('inspect', '-f', '{{.State.Running}}', (await agent.task(arn('steady')))!.containers[0]!.dockerId!)).toBe('true');

  // A crash while the disk is full, and a restart still on it: the agent starts and serves. SQLite
  // may free a little space as it reopens (it resets its shared-memory file), so fill that too.
  await agent.stop('SIGKILL');
  await agent.start({ healthy: false });
  fillers.push(...fill(mountPoint));
  expect((await agent.client.post('/v1/tasks', taskBody(arn('refused')))).status).toBe(503);
  expect((await agent.client.get('/v1/health')).status).toBe(503);
  expect((await agent.task(arn('steady')))!.knownStatus).toBe('RUNNING');

  for (const f of fillers) rmSync(f);
  await agent.waitForTask(arn('rising-1'), (t) => t?.knownStatus === 'RUNNING');
  await agent.waitForTask(arn('rising-2'), (t) => t?.knownStatus === 'RUNNING');
  expect((await agent.client.get('/v1/health')).status).toBe(200);
  // The refused requests changed nothing: the task was not made, the stop did not happen.
  expect(await agent.task(arn('refused'))).toBeUndefined();
  expect((await agent.task(arn('steady')))!.knownStatus).toBe('RUNNING');
  expect((await agent.client.post('/v1/tasks', taskBody(arn('refused')))).status).toBe(201);
  expect((await agent.client.post('/v1/tasks', { arn: arn('steady'), desiredStatus: 'STOPPED' })).status).toBe(200);
  await agent.waitForTask(arn('refused'), (t) => t?.knownStatus === 'RUNNING');
  await agent.waitForTask(arn('steady'), (t) => t?.knownStatus === 'STOPPED');

  // Nothing lost: a crash now and a restart bring back the same tasks, containers and feed.
  const names = ['steady', 'rising-1', 'rising-2', 'refused'].map(arn);
  const before: TaskView[] = await Promise.all(names.map(async (a) => (await agent!.task(a))!));
  const feedBefore = await readFeed(agent.client);
  await agent.stop('SIGKILL');
  await agent.start();
  const after: TaskView[] = await Promise.all(names.map(async (a) => (await agent!.task(a))!));
  expect(after).toEqual(before);
  expect(await readFeed(agent.client)).toEqual(feedBefore);
  expectStateMatchesDocker(agentId, after);
  expectCleanFeed(feedBefore);
}, 180_000);

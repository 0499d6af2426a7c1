import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { AgentProcess, removeContainersOf } from '../../support/agent-process.js';
import { expectCleanFeed, expectStateMatchesDocker, readFeed } from '../../support/docker-truth.js';
import { TEST_IMAGE } from '../global-setup.js';

const KILLS = Number(process.env.BERTH_CHAOS_KILLS ?? 50);
const TASKS = 10;
const STOPPED_TASKS = 4;
const SEED = Number(process.env.BERTH_CHAOS_SEED ?? Date.now() % 2 ** 31);

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with BERTH_CHAOS_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dataRoot = mkdtempSync(join(tmpdir(), 'berth-chaos-'));
let agentId = '';
afterAll(() => {
  removeContainersOf(agentId);
  rmSync(dataRoot, { recursive: true, force: true });
});

/** Docker's create events for this run's containers, from now until `stop()`, as "arn name". */
function watchCreates(): { stop: () => Promise<string[]> } {
  const child = spawn('/usr/bin/docker', ['events', '--filter', 'type=container', '--filter', 'event=create', '--filter', 'label=berth.task-family=chaos', '--format', '{{json .Actor.Attributes}}'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return {
    stop: async () => {
      // Events already sent are on their way through the pipe; give them a moment, then end the stream.
      await new Promise((r) => setTimeout(r, 1_000));
      child.kill('SIGTERM');
      await once(child, 'exit');
      return out
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, string>)
        .filter((a) => a['berth.task-arn']?.startsWith(`arn:chaos/${process.pid}/`))
        .map((a) => `${a['berth.task-arn']} ${a['berth.container-name']}`);
    },
  };
}

const arnOf = (i: number): string => `arn:chaos/${process.pid}/task-${i}`;
const taskBody = (i: number) => ({
  arn: arnOf(i),
  family: 'chaos',
  version: '1',
  containers: ['a', 'b', 'c'].map((name) => ({ name, image: TEST_IMAGE, command: ['sleep', '600'], stopTimeout: 1, essential: name === 'a' })),
});

it(`SIGKILLed ${KILLS} times while bringing ${TASKS} tasks up and some down, the agent converges with exactly one container each and a clean feed`, async () => {
  console.log(`chaos seed ${SEED} (replay with BERTH_CHAOS_SEED=${SEED})`);
  const random = prng(SEED);
  const agent = new AgentProcess(join(dataRoot, 'data'));
  const creates = watchCreates();
  let kills = 0;
  let startupKills = 0;
  for (let round = 0; round < KILLS; round++) {
    if (round % 5 === 4) {
      // Killed somewhere in its start-up: opening and migrating the database, claiming the socket,
      // re-reading Docker, or the first steps.
      agent.launch();
      await new Promise((r) => setTimeout(r, Math.floor(random() * 500)));
      await agent.stop('SIGKILL');
      kills++;
      startupKills++;
      continue;
    }
    await agent.start();
    if (!agentId) agentId = (await agent.client.get<{ agentId: string }>('/v1/metadata')).body.agentId;
    // Requests race the kill: some are answered, some die with the agent; both are fine.
    const requests: Array<Promise<unknown>> = [];
    for (let i = 0; i < TASKS; i++) requests.push(agent.client.post('/v1/tasks', taskBody(i)).catch(() => undefined));
    if (round >= KILLS / 2) {
      for (let i = 0; i < STOPPED_TASKS; i++) {
        requests.push(agent.client.post('/v1/tasks', { arn: arnOf(i), desiredStatus: 'STOPPED' }).catch(() => undefined));
      }
    }
    await new Promise((r) => setTimeout(r, Math.floor(random() * 700)));
    await agent.stop('SIGKILL');
    kills++;
    await Promise.all(requests);
  }

  await agent.start();
  for (let i = 0; i < TASKS; i++) await agent.client.post('/v1/tasks', taskBody(i));
  for (let i = 0; i < STOPPED_TASKS; i++) await agent.client.post('/v1/tasks', { arn: arnOf(i), desiredStatus: 'STOPPED' });
  const views: TaskView[] = [];
  for (let i = 0; i < TASKS; i++) {
    const want = i < STOPPED_TASKS ? 'STOPPED' : 'RUNNING';
    views.push((await agent.waitForTask(arnOf(i), (t) => t?.knownStatus === want, 90_000))!);
  }

  // Exactly one Docker container per (task, container), and it is the one the agent knows.
  expect(views.flatMap((t) => t.containers.map((c) => c.dockerId)).every((id) => id !== undefined)).toBe(true);
  expectStateMatchesDocker(agentId, views);
  expect(new Set(views.flatMap((t) => t.containers.map((c) => c.dockerId))).size).toBe(TASKS * 3);

  // Exactly one container was ever made per (task, container): Docker's own create events say so.
  const made = await creates.stop();
  expect(made.sort()).toEqual(views.flatMap((t) => t.containers.map((c) => `${t.arn} ${c.name}`)).sort());

  // The feed: consecutive seqs from 1, and no (task, container, status) reported twice.
  const events = await readFeed(agent.client);
  expect(events[0]?.seq).toBe(1);
  expectCleanFeed(events);
  await agent.stop('SIGTERM');
  console.log(`chaos: ${kills} SIGKILLs (${startupKills} during start-up), ${made.length} containers ever created, ${events.length} events, seed ${SEED}`);
}, 600_000);

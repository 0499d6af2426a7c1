/**
 * GET /v1/services at 1,000 running tasks: an agent on the fake Docker, saving to a real SQLite
 * file, runs 1,000 one-container tasks (each with two ports and labels); one client then GETs the
 * list over the control socket 200 times in a row. Reports the latency (request sent → JSON parsed)
 * at p50/p99 against the 20 ms goal, and how long a watch takes to reach its `synced` line.
 *
 *   npm run bench:services
 *   BENCH_TASKS=5000 npm run bench:services
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNdjson } from '../src/cli/client/ndjson.js';
import { ControlClient } from '../src/control/client.js';
import { IMAGE } from '../test/support/fixtures.js';
import { fakeDockerAgent } from './fake-agent.js';
import { fmt, median, percentile } from './stats.js';
import { report } from './report.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 1_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const WATCHES = 20;
const GOAL_MS = 20;

const task = (i: number): Record<string, unknown> => ({
  arn: `arn:bench:task/svc-${String(i).padStart(5, '0')}`,
  family: 'services',
  version: 1,
  containers: [
    {
      name: 'app',
      image: IMAGE,
      command: ['sleep', '300'],
      portMappings: [{ containerPort: 8080 }, { containerPort: 9090 }],
      labels: { team: `t${i % 10}`, tier: 'web' },
    },
  ],
});

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-services-'));
  const { agent, config } = await fakeDockerAgent(dir);
  try {
    const client = new ControlClient(config.socketPath, 300_000);
    const posts = await applyTasks(client);
    if (posts.some((s) => s !== 201)) throw new Error(`not every task was accepted: ${JSON.stringify(posts.filter((s) => s !== 201).slice(0, 3))}`);
    await agent.engine.idle();
    const count = (await client.get<{ services: unknown[] }>('/v1/services')).body.services.length;
    if (count !== TASKS) throw new Error(`${count} services for ${TASKS} running tasks`);

    const ms: number[] = [];
    let bytes = 0;
    for (let i = 0; i < REQUESTS; i++) {
      const started = performance.now();
      const res = await client.get<{ services: unknown[] }>('/v1/services');
      ms.push(performance.now() - started);
      if (res.status !== 200 || res.body.services.length !== TASKS) throw new Error(`bad answer: ${res.status}`);
      bytes = JSON.stringify(res.body).length;
    }
    const synced: number[] = [];
    for (let i = 0; i < WATCHES; i++) synced.push(await timeToSynced(config.socketPath));

    const p50 = median(ms);
    const p99 = percentile(ms, 99);
    console.log(`GET /v1/services: ${TASKS} running tasks on the fake Docker, ${REQUESTS} requests over the socket, ${(bytes / 1024).toFixed(0)} KiB each`);
    console.log(`  latency  p50 ${fmt(p50)}   p99 ${fmt(p99)}   max ${fmt(Math.max(...ms))}   (goal p99 < ${GOAL_MS} ms: ${p99 < GOAL_MS ? 'met' : 'MISSED'})`);
    report({ scenario: `GET /v1/services p99 at ${TASKS} tasks (fake Docker)`, unit: 'ms', berth: p99, goal: { max: GOAL_MS }, rounds: 1 });
    console.log(`  watch: request sent -> synced line read   p50 ${fmt(median(synced))}   max ${fmt(Math.max(...synced))} (${WATCHES} watches)`);
  } finally {
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function applyTasks(client: ControlClient): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < TASKS) statuses.push((await client.post('/v1/tasks', task(next++))).status);
    }),
  );
  return statuses;
}

async function timeToSynced(socketPath: string): Promise<number> {
  const started = performance.now();
  let syncedAt = 0;
  const stream = await openNdjson(socketPath, '/v1/services?watch=1', (line) => {
    if ((line as { type: string }).type === 'synced' && syncedAt === 0) syncedAt = performance.now();
  });
  while (syncedAt === 0) await new Promise((r) => setImmediate(r));
  stream.close();
  return syncedAt - started;
}

await main();

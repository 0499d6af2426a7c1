/**
 * A six-container task whose containers form a START/HEALTHY chain, on the real Docker engine:
 * POST to RUNNING through the agent's socket, measured side by side with raw dockerode creating and
 * starting the same containers in the same order and waiting for the same conditions (the start,
 * or Docker's `health_status: healthy` event). Rounds alternate; medians and their ratio are
 * reported. Target: the agent within 1.10x of the raw chain.
 *
 *   npm run bench:chain          (needs scripts/setup-docker.sh to have run)
 *   BENCH_ROUNDS=10 npm run bench:chain
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { startAgent } from '../src/agent.js';
import { resolveConfig } from '../src/config/config.js';
import { ControlClient } from '../src/control/client.js';
import { DockerodeClient } from '../src/docker/dockerode-client.js';
import { silentLogger } from '../src/log/logger.js';
import { openSqliteSaver } from '../src/state/sqlite-saver.js';
import { fmt, median } from './stats.js';
import { report } from './report.js';

const IMAGE = process.env.BERTH_TEST_IMAGE ?? '127.0.0.1:5000/berth/busybox:latest';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RUN = `bench-chain-${process.pid}`;
const raw = new Docker({ socketPath: '/var/run/docker.sock' });
const LENGTH = 6;
/** ECS's shortest check: Docker probes first one interval (5 s) after the start, so each HEALTHY link waits about that long on both sides. */
const CHECK = { command: ['CMD-SHELL', 'true'], interval: 5, timeout: 2, retries: 3, startPeriod: 0 };

/** c0 ← c1 (HEALTHY) ← c2 (START) ← c3 (HEALTHY) ← c4 (START) ← c5 (HEALTHY): every even link waits for health. */
function condition(i: number): 'START' | 'HEALTHY' {
  return i % 2 === 1 ? 'HEALTHY' : 'START';
}
const healthChecked = (i: number): boolean => i < LENGTH - 1 && condition(i + 1) === 'HEALTHY';

function taskBody(arn: string) {
  return {
    arn,
    family: 'bench-chain',
    revision: 1,
    containerDefinitions: Array.from({ length: LENGTH }, (_, i) => ({
      name: `c${i}`,
      image: IMAGE,
      essential: true,
      command: ['sleep', '300'],
      stopTimeout: 1,
      ...(healthChecked(i) ? { healthCheck: CHECK } : {}),
      ...(i > 0 ? { dependsOn: [{ containerName: `c${i - 1}`, condition: condition(i) }] } : {}),
    })),
  };
}

/** Resolves when Docker reports `health_status: healthy` for the container. */
async function healthy(id: string): Promise<void> {
  const stream = (await raw.getEvents({ filters: { container: [id], event: ['health_status'] } })) as NodeJS.ReadableStream & { destroy(): void };
  try {
    const info = await raw.getContainer(id).inspect();
    if (info.State.Health?.Status === 'healthy') return;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (chunk.toString().includes('health_status: healthy')) return;
    }
  } finally {
    stream.destroy();
  }
}

async function rawChain(round: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < LENGTH; i++) {
    const c = await raw.createContainer({
      name: `${RUN}-raw-${round}-c${i}`,
      Image: IMAGE,
      Cmd: ['sleep', '300'],
      Labels: { 'berth.bench': RUN },
      StopTimeout: 1,
      ...(healthChecked(i)
        ? { Healthcheck: { Test: CHECK.command, Interval: CHECK.interval * 1e9, Timeout: CHECK.timeout * 1e9, Retries: CHECK.retries, StartPeriod: 0 } }
        : {}),
    });
    await c.start();
    await c.inspect();
    if (healthChecked(i)) await healthy(c.id);
  }
  return performance.now() - started;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-chain-'));
  const config = resolveConfig({ dataDir: dir }, { env: {}, uid: 0, home: dir });
  const docker = new DockerodeClient({ socketPath: '/var/run/docker.sock', timeoutMs: config.dockerTimeoutMs, pullTimeoutMs: config.pullTimeoutMs });
  const saver = openSqliteSaver(config.databasePath);
  const agent = await startAgent({ config, docker, saver, log: silentLogger(), defaultMetrics: false });
  const client = new ControlClient(config.socketPath, 10_000);
  const berthTimes: number[] = [];
  const rawTimes: number[] = [];
  /** POST, then wait on the engine's own feed (no polling) for the task's RUNNING event. */
  const berthChain = async (round: number): Promise<number> => {
    const arn = `arn:bench:task/${RUN}-${round}`;
    const running = new Promise<void>((resolve) => {
      const off = agent.engine.subscribe((e) => {
        if (e.type === 'task' && e.taskArn === arn && e.status === 'RUNNING') {
          off();
          resolve();
        }
      });
    });
    const started = performance.now();
    const posted = await client.post('/v1/tasks', taskBody(arn));
    if (posted.status >= 300) throw new Error(`POST answered ${posted.status}: ${JSON.stringify(posted.body)}`);
    await running;
    return performance.now() - started;
  };
  try {
    // The pull (cached after the first) and Docker's first creates are warmed up, not counted.
    await berthChain(-1);
    await rawChain(-1);
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) {
        rawTimes.push(await rawChain(i));
        berthTimes.push(await berthChain(i));
      } else {
        berthTimes.push(await berthChain(i));
        rawTimes.push(await rawChain(i));
      }
    }
  } finally {
    await agent.close();
    const ours = await raw.listContainers({ all: true, filters: { label: ['berth.task-family=bench-chain'] } });
    const rawOnes = await raw.listContainers({ all: true, filters: { label: [`berth.bench=${RUN}`] } });
    await Promise.all([...ours, ...rawOnes].map((c) => raw.getContainer(c.Id).remove({ force: true })));
    rmSync(dir, { recursive: true, force: true });
  }
  const r = median(rawTimes);
  const b = median(berthTimes);
  console.log(`six-container START/HEALTHY chain on real Docker, ${ROUNDS} rounds, interleaved`);
  console.log(`  raw dockerode   median ${fmt(r)}   (create, start, inspect, wait for start or healthy, in order)`);
  console.log(`  berth           median ${fmt(b)}   (POST over the socket -> task RUNNING, every change saved in SQLite)`);
  console.log(`  ratio berth/raw ${(b / r).toFixed(2)}x   (target: at most 1.10x)`);
  report({ scenario: 'six-container START/HEALTHY chain (real Docker)', unit: 'ms', berth: b, baseline: { name: 'raw dockerode', value: r }, goal: { ratio: 1.1 }, rounds: ROUNDS });
}

await main();

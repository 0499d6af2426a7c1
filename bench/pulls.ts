/**
 * Shared pulls on the real Docker engine: 20 tasks whose containers use 3 images between them,
 * started at once with --max-concurrent-pulls 2, from no image cached to every task RUNNING. The
 * agent must make exactly 3 Docker pulls (one per image, shared by the tasks that need it). Measured
 * side by side with raw dockerode doing the same work the obvious way: pull the 3 images 2 at a
 * time, then create and start the 20 containers (8 at once, the agent's reconcile concurrency).
 * The images are removed (`docker rmi`) before every round so each pull is a real one; rounds
 * alternate between the two so both see the same machine noise; medians and their ratio are reported.
 *
 *   npm run bench:pulls      (needs scripts/setup-docker.sh to have pushed berth/variant:0..2)
 *   BENCH_ROUNDS=10 npm run bench:pulls
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { containerDefinition, TASK_DEFAULTS } from '../src/api/task.js';
import { DEFAULTS } from '../src/config/config.js';
import type { PullOptions } from '../src/docker/docker-client.js';
import { DockerodeClient } from '../src/docker/dockerode-client.js';
import { openSqliteSaver } from '../src/state/sqlite-saver.js';
import { fmt, median } from './stats.js';
import { benchEngine } from './real-engine.js';
import { report } from './report.js';

const IMAGES = [0, 1, 2].map((v) => `127.0.0.1:5000/berth/variant:${v}`);
const TASKS = 20;
const MAX_CONCURRENT_PULLS = 2;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RUN = `bench-pulls-${process.pid}`;
const raw = new Docker({ socketPath: '/var/run/docker.sock' });

const imageOf = (i: number): string => IMAGES[i % IMAGES.length]!;

/** Runs `work` over `items`, at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function rawPull(image: string): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    raw.pull(image, (err: Error | null, stream: NodeJS.ReadableStream) => {
      if (err) return reject(err);
      raw.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve()));
    }),
  );
}

async function rawRound(round: number): Promise<number> {
  const started = performance.now();
  await pool(IMAGES, MAX_CONCURRENT_PULLS, rawPull);
  const indexes = Array.from({ length: TASKS }, (_, i) => i);
  await pool(indexes, DEFAULTS.reconcileConcurrency, async (i) => {
    const c = await raw.createContainer({ name: `${RUN}-raw-${round}-${i}`, Image: imageOf(i), Cmd: ['sleep', '300'], Labels: { 'berth.bench': RUN } });
    await c.start();
  });
  return performance.now() - started;
}

async function berthRound(round: number): Promise<{ ms: number; pulls: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-pulls-'));
  const saver = openSqliteSaver(join(dir, 'state.db'));
  const client = new DockerodeClient({ socketPath: '/var/run/docker.sock', timeoutMs: DEFAULTS.dockerTimeoutMs });
  let pulls = 0;
  const counted = Object.assign(Object.create(client) as DockerodeClient, {
    pullImage: (image: string, options?: PullOptions) => {
      pulls += 1;
      return client.pullImage(image, options);
    },
  });
  const engine = benchEngine({ docker: counted, saver, agentId: `${RUN}-${round}`, maxConcurrentPulls: MAX_CONCURRENT_PULLS });
  await engine.start();
  try {
    const arns = Array.from({ length: TASKS }, (_, i) => `arn:bench:task/${RUN}-${round}-${i}`);
    const waiting = new Set(arns);
    const allRunning = new Promise<void>((resolve, reject) => {
      const off = engine.subscribe((e) => {
        if (e.type !== 'task' || !waiting.has(e.taskArn)) return;
        if (e.status === 'STOPPED') {
          const c = engine.getTask(e.taskArn)?.containers[0];
          reject(new Error(`${e.taskArn} stopped: ${c?.reason?.code ?? ''} ${c?.reason?.message ?? e.reasonMessage ?? ''}`));
        }
        if (e.status !== 'RUNNING') return;
        waiting.delete(e.taskArn);
        if (waiting.size === 0) {
          off();
          resolve();
        }
      });
    });
    const started = performance.now();
    await Promise.all(
      arns.map((arn, i) =>
        engine.addTask({
          kind: 'definition',
          task: {
            ...TASK_DEFAULTS,
            arn,
            family: 'bench-pulls',
            version: '1',
            containers: [containerDefinition({ name: 'app', image: imageOf(i), command: ['sleep', '300'], stopTimeout: 1 })],
          },
        }),
      ),
    );
    const watchdog = setTimeout(() => {
      const behind = [...waiting].map((arn) => `${arn}: ${JSON.stringify(engine.getTask(arn)?.containers.map((c) => c.knownStatus))}`);
      console.error(`berth round ${round}: not all RUNNING after 60 s:\n${behind.join('\n')}`);
    }, 60_000);
    await allRunning.finally(() => clearTimeout(watchdog));
    return { ms: performance.now() - started, pulls };
  } finally {
    await engine.close();
    await saver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Removes every container of this benchmark (an interrupted earlier run's too), then the images, so the next round pulls for real. */
async function reset(): Promise<void> {
  const ours = [
    ...(await raw.listContainers({ all: true, filters: { label: ['berth.bench'] } })).filter((c) => c.Labels['berth.bench']?.startsWith('bench-pulls-')),
    ...(await raw.listContainers({ all: true, filters: { label: ['berth.agent-id'] } })).filter((c) => c.Labels['berth.agent-id']?.startsWith('bench-pulls-')),
  ];
  await Promise.all(ours.map((c) => raw.getContainer(c.Id).remove({ force: true })));
  for (const image of IMAGES) await removeImage(image);
}

/** Other test runs on this Docker may hold a container of the image for a moment: 409 is waited out. */
async function removeImage(image: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await raw.getImage(image).remove();
      return;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404) return;
      if (status !== 409 || attempt >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function main(): Promise<void> {
  const rawTimes: number[] = [];
  const berthTimes: number[] = [];
  try {
    for (let i = -1; i < ROUNDS; i++) {
      // Round -1 warms both up and is not counted.
      for (const who of i % 2 === 0 ? (['raw', 'berth'] as const) : (['berth', 'raw'] as const)) {
        await reset();
        if (who === 'raw') {
          const ms = await rawRound(i);
          if (i >= 0) rawTimes.push(ms);
        } else {
          const { ms, pulls } = await berthRound(i);
          if (pulls !== IMAGES.length) throw new Error(`expected exactly ${IMAGES.length} Docker pulls for ${TASKS} tasks, the agent made ${pulls}`);
          if (i >= 0) berthTimes.push(ms);
        }
      }
    }
  } finally {
    await reset();
  }
  const r = median(rawTimes);
  const b = median(berthTimes);
  console.log(`${TASKS} tasks sharing ${IMAGES.length} images on real Docker, nothing cached, ${ROUNDS} rounds, interleaved, max ${MAX_CONCURRENT_PULLS} pulls at once`);
  console.log(`  raw dockerode   median ${fmt(r)}   (pull 3 images 2 at a time, then create + start 20 containers, 8 at once)`);
  console.log(`  berth engine    median ${fmt(b)}   (20 addTask at once -> every task RUNNING; exactly ${IMAGES.length} Docker pulls each round)`);
  console.log(`  ratio berth/raw ${(b / r).toFixed(2)}x`);
  report({ scenario: `${TASKS} tasks sharing ${IMAGES.length} images, nothing cached (real Docker)`, unit: 'ms', berth: b, baseline: { name: 'raw dockerode', value: r }, rounds: ROUNDS });
}

await main();

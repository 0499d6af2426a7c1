/**
 * One-task launch on the real Docker engine, measured side by side with raw dockerode doing the
 * same work (pull, create with a published port, start, inspect). Rounds alternate between the two
 * so both see the same machine noise; medians and their ratio are reported.
 *
 *   npm run bench            (needs scripts/setup-docker.sh to have run)
 *   BENCH_ROUNDS=20 npm run bench
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { containerDefinition, TASK_DEFAULTS } from '../src/api/task.js';
import { DockerodeClient } from '../src/docker/dockerode-client.js';
import { openSqliteSaver } from '../src/state/sqlite-saver.js';
import { fmt, median } from './stats.js';
import { benchEngine } from './real-engine.js';
import { report } from './report.js';

const IMAGE = process.env.BERTH_TEST_IMAGE ?? '127.0.0.1:5000/berth/busybox:latest';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const RUN = `bench-${process.pid}`;
const raw = new Docker({ socketPath: '/var/run/docker.sock' });

async function rawLaunch(i: number): Promise<{ ms: number; id: string }> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) =>
    raw.pull(IMAGE, (err: Error | null, stream: NodeJS.ReadableStream) => {
      if (err) return reject(err);
      raw.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve()));
    }),
  );
  const c = await raw.createContainer({
    name: `${RUN}-raw-${i}`,
    Image: IMAGE,
    Cmd: ['sleep', '300'],
    Labels: { 'berth.bench': RUN },
    ExposedPorts: { '8080/tcp': {} },
    HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  await c.start();
  await c.inspect();
  return { ms: performance.now() - started, id: c.id };
}

async function berthLaunch(engine: ReturnType<typeof benchEngine>, i: number): Promise<number> {
  const arn = `arn:bench:task/${RUN}-${i}`;
  const started = performance.now();
  const running = new Promise<void>((resolve) => {
    const off = engine.subscribe((e) => {
      if (e.type === 'task' && e.taskArn === arn && e.status === 'RUNNING') {
        off();
        resolve();
      }
    });
  });
  await engine.addTask({
    kind: 'definition',
    task: {
      arn,
      family: 'bench',
      version: '1',
      ...TASK_DEFAULTS,
      containers: [
        containerDefinition({
          name: 'app',
          image: IMAGE,
          command: ['sleep', '300'],
          labels: { 'bench.run': RUN },
          stopTimeout: 1,
          portMappings: [{ containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1' }],
        }),
      ],
    },
  });
  await running;
  return performance.now() - started;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const saver = openSqliteSaver(join(dir, 'state.db'));
  const engine = benchEngine({ docker: new DockerodeClient({ socketPath: '/var/run/docker.sock', timeoutMs: 30_000, pullTimeoutMs: 600_000 }), saver, agentId: RUN });
  await engine.start();
  const rawTimes: number[] = [];
  const berthTimes: number[] = [];
  try {
    // One warm-up of each, not counted: the first pull and the first create pay for caches.
    await rawLaunch(-1);
    await berthLaunch(engine, -1);
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) {
        rawTimes.push((await rawLaunch(i)).ms);
        berthTimes.push(await berthLaunch(engine, i));
      } else {
        berthTimes.push(await berthLaunch(engine, i));
        rawTimes.push((await rawLaunch(i)).ms);
      }
    }
  } finally {
    await engine.close();
    await saver.close();
    const leftovers = await raw.listContainers({ all: true, filters: { label: [`berth.agent-id=${RUN}`] } });
    const rawOnes = await raw.listContainers({ all: true, filters: { label: [`berth.bench=${RUN}`] } });
    await Promise.all([...leftovers, ...rawOnes].map((c) => raw.getContainer(c.Id).remove({ force: true })));
    rmSync(dir, { recursive: true, force: true });
  }
  const r = median(rawTimes);
  const b = median(berthTimes);
  console.log(`one-task launch on real Docker, ${ROUNDS} rounds, interleaved (pull + create + start + inspect)`);
  console.log(`  raw dockerode   median ${fmt(r)}`);
  console.log(`  berth engine    median ${fmt(b)}   (POST-equivalent addTask -> task RUNNING event, state saved in SQLite)`);
  console.log(`  ratio berth/raw ${(b / r).toFixed(2)}x`);
  report({ scenario: 'one-task launch (real Docker)', unit: 'ms', berth: b, baseline: { name: 'raw dockerode', value: r }, rounds: ROUNDS });
}

await main();

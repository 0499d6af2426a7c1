/**
 * Launch time against N on the real Docker engine: N one-container tasks added at once to a berth
 * engine → every task RUNNING, against raw dockerode doing the same pull, creates and starts with
 * the engine's concurrency, and against `docker-compose up -d` of N services when Debian's
 * docker-compose is installed. For N in BENCH_NS (10, 30, 100), rounds interleaved so every system
 * sees the same machine noise; medians and ratios. Every round starts from no containers.
 *
 *   npm run bench:launch-n
 *   BENCH_NS=10,30 BENCH_ROUNDS=5 npm run bench:launch-n
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import PQueue from 'p-queue';
import { containerDefinition, TASK_DEFAULTS } from '../src/api/task.js';
import { openSqliteSaver } from '../src/state/sqlite-saver.js';
import { report } from './report.js';
import { fmt, median } from './stats.js';
import { DEFAULTS } from '../src/config/config.js';
import { benchEngine, localDocker } from './real-engine.js';

const IMAGE = process.env.BERTH_TEST_IMAGE ?? '127.0.0.1:5000/berth/busybox:latest';
const NS = (process.env.BENCH_NS ?? '10,30,100').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RUN = `bench-n-${process.pid}`;
const raw = new Docker({ socketPath: '/var/run/docker.sock' });
const compose = spawnSync('docker-compose', ['version', '--short'], { encoding: 'utf8' }).status === 0;

type System = 'berth' | 'dockerode' | 'compose';

async function pull(): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    raw.pull(IMAGE, (err: Error | null, stream: NodeJS.ReadableStream) => {
      if (err) return reject(err);
      raw.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve()));
    }),
  );
}

async function rawLaunch(n: number, round: number): Promise<number> {
  const started = performance.now();
  await pull();
  const queue = new PQueue({ concurrency: DEFAULTS.reconcileConcurrency });
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      queue.add(async () => {
        const c = await raw.createContainer({ name: `${RUN}-raw-${round}-${i}`, Image: IMAGE, Cmd: ['sleep', '300'], Labels: { 'berth.bench': RUN } });
        await c.start();
      }),
    ),
  );
  return performance.now() - started;
}

async function berthLaunch(n: number, round: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-n-'));
  const saver = openSqliteSaver(join(dir, 'state.db'));
  const engine = benchEngine({ docker: localDocker(), saver, agentId: RUN });
  await engine.start();
  try {
    const arns = Array.from({ length: n }, (_, i) => `arn:bench:task/${RUN}-${round}-${i}`);
    let running = 0;
    const allRunning = new Promise<void>((resolve) => {
      const off = engine.subscribe((e) => {
        if (e.type === 'task' && e.status === 'RUNNING' && ++running === n) {
          off();
          resolve();
        }
      });
    });
    const started = performance.now();
    await Promise.all(
      arns.map((arn) =>
        engine.addTask({
          kind: 'definition',
          task: {
            ...TASK_DEFAULTS,
            arn,
            family: 'bench',
            version: '1',
            containers: [containerDefinition({ name: 'app', image: IMAGE, command: ['sleep', '300'], stopTimeout: 1 })],
          },
        }),
      ),
    );
    await allRunning;
    return performance.now() - started;
  } finally {
    await engine.close();
    await saver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function composeLaunch(n: number, round: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-compose-'));
  const file = join(dir, 'docker-compose.yml');
  const services = Array.from({ length: n }, (_, i) => `  s${i}:\n    image: ${IMAGE}\n    command: ["sleep", "300"]\n    labels: { berth.bench: "${RUN}" }\n`).join('');
  writeFileSync(file, `version: "3"\nservices:\n${services}`);
  const project = `${RUN}-${round}-${n}`.replace(/[^a-z0-9]/g, '');
  try {
    const started = performance.now();
    execFileSync('docker-compose', ['-p', project, '-f', file, 'up', '-d', '--quiet-pull'], { stdio: 'ignore' });
    return performance.now() - started;
  } finally {
    execFileSync('docker-compose', ['-p', project, '-f', file, 'down', '-t', '1'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every container a round made, gone before the next starts. */
async function clean(): Promise<void> {
  const ours = [
    ...(await raw.listContainers({ all: true, filters: { label: [`berth.agent-id=${RUN}`] } })),
    ...(await raw.listContainers({ all: true, filters: { label: [`berth.bench=${RUN}`] } })),
  ];
  const queue = new PQueue({ concurrency: 8 });
  await Promise.all(ours.map((c) => queue.add(() => raw.getContainer(c.Id).remove({ force: true }).catch(() => undefined))));
}

async function measure(system: System, n: number, round: number): Promise<number> {
  try {
    if (system === 'berth') return await berthLaunch(n, round);
    if (system === 'dockerode') return await rawLaunch(n, round);
    return composeLaunch(n, round);
  } finally {
    await clean();
  }
}

async function main(): Promise<void> {
  const systems: System[] = compose ? ['berth', 'dockerode', 'compose'] : ['berth', 'dockerode'];
  if (!compose) console.log('docker-compose is not installed: measuring berth and raw dockerode only');
  await clean();
  await pull();
  const times = new Map<string, number[]>();
  for (const n of NS) {
    for (let round = 0; round < ROUNDS; round++) {
      // Rotated each round: no system always goes first on a warm (or a tired) engine.
      const order = systems.map((_, i) => systems[(i + round) % systems.length]!);
      for (const system of order) {
        const key = `${system}:${n}`;
        times.set(key, [...(times.get(key) ?? []), await measure(system, n, round)]);
      }
    }
  }
  console.log(`launch on real Docker: N one-container tasks at once -> all running, ${ROUNDS} rounds, rotated; concurrency ${DEFAULTS.reconcileConcurrency}`);
  for (const n of NS) {
    const m = (s: System): number => median(times.get(`${s}:${n}`)!);
    const parts = systems.map((s) => `${s} ${fmt(m(s))}`).join('   ');
    console.log(`  N=${String(n).padEnd(4)} ${parts}   berth/dockerode ${(m('berth') / m('dockerode')).toFixed(2)}x`);
    report({
      scenario: `launch N=${n} (real Docker)`,
      unit: 'ms',
      berth: m('berth'),
      baseline: { name: 'raw dockerode', value: m('dockerode') },
      ...(compose ? { others: { 'docker-compose up -d': m('compose') } } : {}),
      goal: n === 30 || n === 100 ? { ratio: 1.03 } : undefined,
      rounds: ROUNDS,
      series: { name: 'launch', x: n },
    });
  }
}

await main();

/**
 * Route delivery at scale: an agent on the fake Docker (SQLite file, synchronous=FULL) with 1,000
 * running one-container tasks and three routes: an NDJSON file, a webhook that answers at once and
 * a webhook that answers in 50 ms. After every task runs, 200 of them are stopped, 20 at a time;
 * for each action those stops cause, the time from the state change being saved (the engine
 * publishes it) to its delivery is measured on the file route (the line appears) and the fast
 * webhook (the request arrives), while the slow webhook is still working through its backlog.
 * Goal: p99 under 50 ms on both. Receivers and agent share this process, as a worst case.
 *
 *   npm run bench:routes
 *   BENCH_ROUNDS=5 npm run bench:routes
 */
import { mkdtempSync, openSync, readSync, rmSync, watch, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from '../src/control/client.js';
import { parseConfigDocument } from '../src/routes/route-config.js';
import type { RouteRecord } from '../src/routes/route-record.js';
import { applyAll, loadArn, loadTask } from '../test/stress/apply-load.js';
import { fakeDockerAgent } from './fake-agent.js';
import { fmt, median, percentile } from './stats.js';
import { report } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TASKS = 1_000;
const STOPPED = 200;
const STOP_BATCH = 20;
const SLOW_MS = 50;

interface Round {
  readonly file: readonly number[];
  readonly fast: readonly number[];
  /** Events the slow route had not got through when the measured ones were all in. */
  readonly slowLag: number;
  readonly slowDelivered: number;
}

async function receiver(delayMs: number, onRecord: (r: RouteRecord) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      onRecord(JSON.parse(body) as RouteRecord);
      if (delayMs === 0) res.writeHead(204).end();
      else setTimeout(() => res.writeHead(204).end(), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/** Calls `onRecord` for each line appended to `path`, as soon as inotify says it grew. */
function followFile(path: string, onRecord: (r: RouteRecord) => void): () => void {
  writeFileSync(path, '');
  const fd = openSync(path, 'r');
  let offset = 0;
  let partial = '';
  const buffer = Buffer.alloc(1 << 20);
  const read = (): void => {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, offset);
      if (n === 0) return;
      offset += n;
      const lines = (partial + buffer.subarray(0, n).toString('utf8')).split('\n');
      partial = lines.pop()!;
      for (const line of lines) onRecord(JSON.parse(line) as RouteRecord);
    }
  };
  const watcher = watch(path, read);
  return () => watcher.close();
}

async function round(): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-routes-'));
  const published = new Map<number, number>();
  const measuring = new Set<number>();
  const file: number[] = [];
  const fast: number[] = [];
  let slowDelivered = 0;
  const measure = (into: number[]) => (r: RouteRecord) => {
    if (r.kind === 'action' && measuring.has(r.seq)) into.push(performance.now() - published.get(r.seq)!);
  };
  const fastReceiver = await receiver(0, measure(fast));
  const slowReceiver = await receiver(SLOW_MS, () => slowDelivered++);
  const filePath = join(dir, 'routes.ndjson');
  const unfollow = followFile(filePath, measure(file));
  const { routes } = parseConfigDocument('bench', {
    routes: [
      { name: 'file', backend: { type: 'file', path: filePath } },
      { name: 'fast', backend: { type: 'webhook', url: fastReceiver.url } },
      { name: 'slow', backend: { type: 'webhook', url: slowReceiver.url } },
    ],
  });
  const { agent, config } = await fakeDockerAgent(dir, { routes });
  let stopping = false;
  agent.engine.subscribe((e) => {
    published.set(e.seq, performance.now());
    if (stopping && e.type === 'container' && e.action) measuring.add(e.seq);
  });
  try {
    const client = new ControlClient(config.socketPath, 300_000);
    let running = 0;
    const allRunning = new Promise<void>((resolve) => {
      const off = agent.engine.subscribe((e) => {
        if (e.type === 'task' && e.status === 'RUNNING' && ++running === TASKS) {
          off();
          resolve();
        }
      });
    });
    const applied = await applyAll(client, 50, TASKS);
    if (applied.some((a) => a.status !== 201)) throw new Error('an apply was not 201');
    await allRunning;
    stopping = true;
    for (let i = 0; i < STOPPED; i += STOP_BATCH) {
      await Promise.all(
        Array.from({ length: STOP_BATCH }, (_, j) => client.post('/v1/tasks', { ...loadTask(i + j), arn: loadArn(i + j), desiredStatus: 'STOPPED' })),
      );
    }
    const deadline = Date.now() + 60_000;
    while ((file.length < measuring.size || fast.length < measuring.size || measuring.size < STOPPED) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (fast.length < measuring.size || file.length < measuring.size) throw new Error(`only ${fast.length}/${file.length} of ${measuring.size} measured records arrived`);
    const { routes: statuses } = (await client.get<{ routes: Array<{ name: string; lag: number }> }>('/v1/routes')).body;
    return { file, fast, slowLag: statuses.find((s) => s.name === 'slow')!.lag, slowDelivered };
  } finally {
    unfollow();
    await agent.close();
    fastReceiver.server.close();
    slowReceiver.server.closeAllConnections();
    slowReceiver.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`routes: ${TASKS} running tasks on the fake Docker, routes file + fast webhook + ${SLOW_MS} ms webhook; ${STOPPED} stops measured (saved -> delivered)`);
  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = await round();
    rounds.push(r);
    console.log(
      `  round ${i + 1}: file p50 ${fmt(median(r.file))}  p99 ${fmt(percentile(r.file, 99))}  |  fast webhook p50 ${fmt(median(r.fast))}  p99 ${fmt(percentile(r.fast, 99))}` +
        `  |  ${r.file.length} records each; slow webhook delivered ${r.slowDelivered}, still ${r.slowLag} events behind`,
    );
  }
  const m = (pick: (r: Round) => number): number => median(rounds.map(pick));
  console.log(`medians of ${ROUNDS} rounds (goal: p99 < 50 ms while the slow route lags):`);
  console.log(`  file route           p50 ${fmt(m((r) => median(r.file)))}   p99 ${fmt(m((r) => percentile(r.file, 99)))}`);
  console.log(`  fast webhook route   p50 ${fmt(m((r) => median(r.fast)))}   p99 ${fmt(m((r) => percentile(r.fast, 99)))}`);
  report({ scenario: 'route delivery p99, fast webhook beside a slow one (fake Docker)', unit: 'ms', berth: m((r) => percentile(r.fast, 99)), goal: { max: 50 }, rounds: ROUNDS });
  console.log(`  slow webhook lag     ${m((r) => r.slowLag)} events when the others were done`);
}

await main();

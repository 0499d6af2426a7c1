/**
 * Apply under load: 50 concurrent clients POST 2,000 one-container tasks in total over the control
 * socket to an agent on the fake Docker, saving to a real SQLite file (synchronous=FULL) — the
 * workload of test/stress/load.test.ts, timed. Reports the latency of each apply (POST sent → 201
 * read) at p50/p99, the total time from the first POST until every task is RUNNING, and the rate.
 * Each round starts a fresh agent on a fresh database.
 *
 *   npm run bench:apply
 *   BENCH_ROUNDS=5 npm run bench:apply
 *   BENCH_DIR=/dev/shm npm run bench:apply     (database on tmpfs: takes fsync out of the figures)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ControlClient } from '../src/control/client.js';
import { applyAll, LOAD } from '../test/stress/apply-load.js';
import { fakeDockerAgent } from './fake-agent.js';
import { fmt, median, percentile } from './stats.js';
import { report } from './report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BASE_DIR = process.env.BENCH_DIR ?? tmpdir();

interface Round {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** First POST sent → last 201 read. */
  readonly acknowledgedMs: number;
  /** First POST sent → the last task's RUNNING event. */
  readonly allRunningMs: number;
  readonly loopDelayP99: number;
}

async function round(): Promise<Round> {
  const dir = mkdtempSync(join(BASE_DIR, 'berth-bench-apply-'));
  const { agent, config } = await fakeDockerAgent(dir);
  try {
    const client = new ControlClient(config.socketPath, 300_000);
    let running = 0;
    const allRunning = new Promise<number>((resolve) => {
      const off = agent.engine.subscribe((e) => {
        if (e.type === 'task' && e.status === 'RUNNING' && ++running === LOAD.tasks) {
          off();
          resolve(performance.now());
        }
      });
    });
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const started = performance.now();
    const applied = await applyAll(client, LOAD.clients, LOAD.tasks);
    const acknowledged = performance.now();
    const bad = applied.filter((a) => a.status !== 201);
    if (bad.length > 0) throw new Error(`${bad.length} applies were not 201, e.g. ${JSON.stringify(bad[0])}`);
    const runningAt = await allRunning;
    loop.disable();
    const ms = applied.map((a) => a.ms);
    return {
      p50: median(ms),
      p99: percentile(ms, 99),
      max: Math.max(...ms),
      acknowledgedMs: acknowledged - started,
      allRunningMs: runningAt - started,
      loopDelayP99: loop.percentile(99) / 1e6,
    };
  } finally {
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`apply under load: ${LOAD.clients} clients x ${LOAD.tasks} one-container tasks over the socket, fake Docker, SQLite in ${BASE_DIR}`);
  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = await round();
    rounds.push(r);
    console.log(
      `  round ${i + 1}: apply p50 ${fmt(r.p50)}  p99 ${fmt(r.p99)}  max ${fmt(r.max)}  |  all acknowledged ${fmt(r.acknowledgedMs)}` +
        `  all RUNNING ${fmt(r.allRunningMs)} (${(LOAD.tasks / (r.allRunningMs / 1000)).toFixed(0)} tasks/s)  |  event-loop delay p99 ${fmt(r.loopDelayP99)}`,
    );
  }
  const m = (pick: (r: Round) => number): number => median(rounds.map(pick));
  console.log(`medians of ${ROUNDS} rounds:`);
  console.log(`  apply latency (POST -> 201)   p50 ${fmt(m((r) => r.p50))}   p99 ${fmt(m((r) => r.p99))}`);
  console.log(`  first POST -> all RUNNING     ${fmt(m((r) => r.allRunningMs))}   (${(LOAD.tasks / (m((r) => r.allRunningMs) / 1000)).toFixed(0)} tasks/s)`);
  report({ scenario: `apply p99, ${LOAD.clients} clients x ${LOAD.tasks} tasks (fake Docker)`, unit: 'ms', berth: m((r) => r.p99), rounds: ROUNDS });
  report({ scenario: `first POST -> all ${LOAD.tasks} RUNNING (fake Docker)`, unit: 'ms', berth: m((r) => r.allRunningMs), rounds: ROUNDS });
}

await main();

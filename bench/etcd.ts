/**
 * The fleet on etcd (README "Fleet on etcd", "Performance"), on the three-member test cluster
 * (scripts/setup-etcd.sh) and the fake Docker, saving to a real SQLite file:
 *
 * - propagation: 1,000 task keys written to etcd for one running agent → all RUNNING, against the
 *   same 1,000 tasks POSTed over the socket; rounds alternate, medians and their ratio (goal ≤ 1.2x).
 * - status lag: each task's change to STOPPED, from the agent saving it to its status key in etcd
 *   saying so (a watch on the status prefix), p50/p99 (goal p99 < 1.5 s).
 *
 *   npm run bench:etcd
 *   BENCH_TASKS=200 BENCH_ROUNDS=1 npm run bench:etcd
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningAgent } from '../src/agent.js';
import { DEFAULTS } from '../src/config/config.js';
import { ControlClient } from '../src/control/client.js';
import { gatewayClient } from '../src/fleet/etcd-gateway-client.js';
import type { EtcdClient } from '../src/fleet/etcd-client.js';
import { statusPrefix, tasksPrefix } from '../src/fleet/keys.js';
import { IMAGE } from '../test/support/fixtures.js';
import { ETCD_ENDPOINTS } from '../test/support/etcd-cluster.js';
import { fakeDockerAgent } from './fake-agent.js';
import { fmt, median, percentile } from './stats.js';
import { report } from './report.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WRITERS = 20;
const RATIO_GOAL = 1.2;
const LAG_GOAL_MS = 1_500;
const HOST = 'bench';

const task = (round: string, i: number): Record<string, unknown> => ({
  arn: `arn:bench:task/etcd-${round}-${String(i).padStart(5, '0')}`,
  family: 'etcd-bench',
  version: 1,
  containers: [{ name: 'app', image: IMAGE, command: ['sleep', '300'] }],
});

/** Runs `work(i)` for i in 0..TASKS-1, WRITERS at a time. */
async function fanOut(work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (next < TASKS) await work(next++);
  }));
}

function allRunning(agent: RunningAgent): Promise<void> {
  return new Promise((resolve) => {
    const check = (): boolean => agent.engine.countByStatus().tasks.RUNNING >= TASKS;
    if (check()) return resolve();
    const off = agent.engine.subscribe(() => {
      if (check()) {
        off();
        resolve();
      }
    });
  });
}

async function withAgent<T>(prefix: string | undefined, run: (agent: RunningAgent, socket: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-etcd-'));
  const { agent, config } = await fakeDockerAgent(dir, prefix === undefined ? {} : { etcd: { endpoints: ETCD_ENDPOINTS, prefix, hostName: HOST, leaseTtlSeconds: DEFAULTS.etcdLeaseTtlSeconds } });
  try {
    return await run(agent, config.socketPath);
  } finally {
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function viaSocket(round: string): Promise<number> {
  return withAgent(undefined, async (agent, socket) => {
    const client = new ControlClient(socket, 300_000);
    const running = allRunning(agent);
    const started = performance.now();
    await fanOut(async (i) => {
      const res = await client.post('/v1/tasks', task(round, i));
      if (res.status !== 201) throw new Error(`POST answered ${res.status}`);
    });
    await running;
    return performance.now() - started;
  });
}

async function viaEtcd(etcd: EtcdClient, round: string, lags: number[]): Promise<number> {
  const prefix = `/berth-bench/${round}`;
  try {
    return await withAgent(prefix, async (agent) => {
      const running = allRunning(agent);
      const started = performance.now();
      await fanOut((i) => etcd.put(`${tasksPrefix(prefix, HOST)}t${i}`, JSON.stringify(task(round, i))));
      await running;
      const elapsed = performance.now() - started;
      lags.push(...(await statusLag(etcd, agent, prefix)));
      return elapsed;
    });
  } finally {
    await removePrefix(etcd, prefix);
  }
}

/** Stops every task; for each, the time from its STOPPED being saved to its status key saying STOPPED. */
async function statusLag(etcd: EtcdClient, agent: RunningAgent, prefix: string): Promise<number[]> {
  const savedAt = new Map<string, number>();
  const lags: number[] = [];
  const off = agent.engine.onCommit((arn, t) => {
    if (t?.knownStatus === 'STOPPED' && !savedAt.has(arn)) savedAt.set(arn, performance.now());
  });
  const keys = statusPrefix(prefix, HOST);
  // The RUNNING statuses already written are behind this revision: only the stops are watched.
  const from = (await etcd.status()).revision + 1;
  const done = new Promise<void>((resolve, reject) => {
    const seen = new Set<string>();
    const watch = etcd.watch(keys, from, {
      onEvents: (events) => {
        for (const e of events) {
          if (e.type !== 'put' || !e.kv.value.includes('"knownStatus":"STOPPED"')) continue;
          const arn = e.kv.key.slice(keys.length);
          const at = savedAt.get(arn);
          if (at === undefined || seen.has(arn)) continue;
          seen.add(arn);
          lags.push(performance.now() - at);
        }
        if (seen.size >= TASKS) {
          watch.cancel();
          resolve();
        }
      },
      onError: reject,
    });
  });
  await fanOut(async (i) => {
    const arn = agent.engine.listTasks()[i]?.arn;
    if (arn) await agent.engine.addTask({ kind: 'desired-status', arn, desiredStatus: 'STOPPED' });
  });
  await done;
  off();
  return lags;
}

async function removePrefix(etcd: EtcdClient, prefix: string): Promise<void> {
  const { kvs } = await etcd.range(`${prefix}/`, { keysOnly: true });
  let next = 0;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (next < kvs.length) await etcd.delete(kvs[next++]!.key);
  }));
}

async function main(): Promise<void> {
  const etcd = gatewayClient({ endpoints: [...ETCD_ENDPOINTS] });
  try {
    await etcd.status();
    const socket: number[] = [];
    const viaKeys: number[] = [];
    const lags: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const round = randomUUID().slice(0, 8);
      socket.push(await viaSocket(round));
      viaKeys.push(await viaEtcd(etcd, round, lags));
    }
    const ratio = median(viaKeys) / median(socket);
    const p99 = percentile(lags, 99);
    console.log(`etcd propagation: ${TASKS} tasks for one agent on the fake Docker, ${ROUNDS} round(s), ${WRITERS} writers each way`);
    console.log(`  POST over the socket -> all RUNNING   median ${fmt(median(socket))}   (${socket.map(fmt).join(', ')})`);
    console.log(`  keys written to etcd -> all RUNNING   median ${fmt(median(viaKeys))}   (${viaKeys.map(fmt).join(', ')})`);
    console.log(`  ratio ${ratio.toFixed(2)}x   (goal <= ${RATIO_GOAL}x: ${ratio <= RATIO_GOAL ? 'met' : 'MISSED'})`);
    console.log(`status lag: STOPPED saved -> status key says STOPPED, ${lags.length} changes`);
    console.log(`  p50 ${fmt(median(lags))}   p99 ${fmt(p99)}   max ${fmt(Math.max(...lags))}   (goal p99 < ${LAG_GOAL_MS} ms: ${p99 < LAG_GOAL_MS ? 'met' : 'MISSED'})`);
    report({ scenario: `etcd propagation: ${TASKS} task keys -> all RUNNING (fake Docker)`, unit: 'ms', berth: median(viaKeys), baseline: { name: 'the same tasks POSTed over the socket', value: median(socket) }, goal: { ratio: RATIO_GOAL }, rounds: ROUNDS });
    report({ scenario: 'etcd status lag p99', unit: 'ms', berth: p99, goal: { max: LAG_GOAL_MS }, rounds: ROUNDS });
  } finally {
    await etcd.close();
  }
}

await main();

/**
 * Drift converging: 100 running tasks of three containers on the fake Docker (an agent saving to
 * a real SQLite file), each given a new definition that changes one container. Measured: first
 * addTask → every task converged (generation 2, old instances stopped and removed, all RUNNING),
 * side by side with creating those 100 containers fresh (100 new one-container tasks → RUNNING),
 * on the same agent, in alternating order, several rounds. Medians and their ratio; goal ≤ 1.1x.
 *
 *   npm run bench:drift
 *   BENCH_TASKS=500 BENCH_ROUNDS=9 npm run bench:drift
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerDefinition, TASK_DEFAULTS, type TaskDefinition } from '../src/api/task.js';
import type { TaskEngine } from '../src/engine/task-engine.js';
import { IMAGE } from '../test/support/fixtures.js';
import { fakeDockerAgent } from './fake-agent.js';
import { fmt, median } from './stats.js';
import { report } from './report.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const GOAL = 1.1;

const container = (name: string, env: Record<string, string> = {}) =>
  containerDefinition({ name, image: IMAGE, command: ['sleep', '300'], environment: env, stopTimeout: 1 });

function threeContainers(arn: string, version: string): TaskDefinition {
  return { ...TASK_DEFAULTS, arn, family: 'drift', version: '1', containers: [container('db'), container('app'), container('side', { VERSION: version })] };
}

function fresh(arn: string): TaskDefinition {
  return { ...TASK_DEFAULTS, arn, family: 'fresh', version: '1', containers: [container('side', { VERSION: 'fresh' })] };
}

async function timed(engine: TaskEngine, defs: readonly TaskDefinition[], done: (engine: TaskEngine, def: TaskDefinition) => boolean): Promise<number> {
  const started = performance.now();
  await Promise.all(defs.map((task) => engine.addTask({ kind: 'definition', task })));
  await engine.idle();
  const ms = performance.now() - started;
  const behind = defs.filter((d) => !done(engine, d));
  if (behind.length > 0) throw new Error(`${behind.length} tasks did not converge, e.g. ${JSON.stringify(engine.getTask(behind[0]!.arn))}`);
  return ms;
}

const allRunning = (engine: TaskEngine, d: TaskDefinition): boolean => {
  const t = engine.getTask(d.arn);
  return t !== undefined && t.retiring === undefined && t.containers.every((c) => c.knownStatus === 'RUNNING');
};
const converged = (generation: number) => (engine: TaskEngine, d: TaskDefinition): boolean =>
  allRunning(engine, d) && (engine.getTask(d.arn)!.generation ?? 1) === generation;

async function main(): Promise<void> {
  const driftMs: number[] = [];
  const freshMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const dir = mkdtempSync(join(tmpdir(), 'berth-bench-drift-'));
    const { agent } = await fakeDockerAgent(dir);
    try {
      const engine = agent.engine;
      const arns = Array.from({ length: TASKS }, (_, i) => `arn:bench:task/drift-${round}-${i}`);
      await timed(engine, arns.map((a) => threeContainers(a, 'one')), allRunning);
      const drift = (): Promise<number> => timed(engine, arns.map((a) => threeContainers(a, 'two')), converged(2));
      const create = (): Promise<number> => timed(engine, arns.map((a) => fresh(`${a}-fresh`)), allRunning);
      if (round % 2 === 0) {
        driftMs.push(await drift());
        freshMs.push(await create());
      } else {
        freshMs.push(await create());
        driftMs.push(await drift());
      }
    } finally {
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const d = median(driftMs);
  const f = median(freshMs);
  console.log(`drift: ${TASKS} running tasks of three containers, each changing one, on the fake Docker (SQLite state), ${ROUNDS} rounds, alternating`);
  console.log(`  create ${TASKS} containers fresh    median ${fmt(f)}   (rounds: ${freshMs.map((m) => m.toFixed(0)).join(' ')})`);
  console.log(`  recreate ${TASKS} changed ones      median ${fmt(d)}   (stop + remove the old, create + start the new; rounds: ${driftMs.map((m) => m.toFixed(0)).join(' ')})`);
  console.log(`  ratio drift/fresh ${(d / f).toFixed(2)}x   (goal <= ${GOAL}x: ${d / f <= GOAL ? 'met' : 'MISSED'})`);
  report({ scenario: `drift: ${TASKS} tasks change one of three containers (fake Docker)`, unit: 'ms', berth: d, baseline: { name: 'the same containers created fresh', value: f }, goal: { ratio: GOAL }, rounds: ROUNDS });
}

await main();

/**
 * Restart recovery with 1,000 persisted tasks on the fake Docker: how long a restarted agent takes
 * to serve its socket, and to finish reconciling (re-reading every container from Docker).
 *
 *   npm run bench:recovery        (BENCH_TASKS=N, BENCH_ROUNDS=N to change the size)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../src/agent.js';
import { resolveConfig } from '../src/config/config.js';
import { ControlClient } from '../src/control/client.js';
import { FakeDocker } from '../src/docker/fake-docker.js';
import { silentLogger } from '../src/log/logger.js';
import { openSqliteSaver } from '../src/state/sqlite-saver.js';
import { fmt, median } from './stats.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const IMAGE = 'registry.bench:5000/app:1';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-recovery-'));
  const config = resolveConfig({ dataDir: join(dir, 'data') }, { env: {}, uid: 1000, home: dir });
  const docker = new FakeDocker({ images: [IMAGE] });
  const boot = () => startAgent({ config, docker, saver: openSqliteSaver(config.databasePath), log: silentLogger(), defaultMetrics: false });

  const first = await boot();
  for (let i = 0; i < TASKS; i++) {
    await first.engine.addTask({
      kind: 'definition',
      task: {
        arn: `arn:bench:task/${i}`,
        family: 'bench',
        version: '1',
        desiredStatus: 'RUNNING',
        containers: [{ name: 'app', image: IMAGE, environment: {}, essential: true, labels: {}, stopTimeout: 1, portMappings: [] }],
      },
    });
  }
  await first.engine.idle();
  const running = first.engine.listTasks().filter((t) => t.knownStatus === 'RUNNING').length;
  await first.close();
  if (running !== TASKS) throw new Error(`only ${running} of ${TASKS} tasks reached RUNNING before the restart`);

  const serve: number[] = [];
  const reconcile: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    const agent = await boot();
    const client = new ControlClient(config.socketPath);
    if ((await client.get('/v1/health')).status !== 200) throw new Error('restarted agent is not healthy');
    serve.push(performance.now() - started);
    await agent.engine.idle();
    reconcile.push(performance.now() - started);
    const stillRunning = agent.engine.listTasks().filter((t) => t.knownStatus === 'RUNNING').length;
    await agent.close();
    if (stillRunning !== TASKS) throw new Error(`after restart ${stillRunning} of ${TASKS} tasks are RUNNING`);
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(`restart with ${TASKS} persisted RUNNING tasks (fake Docker, SQLite on disk), ${ROUNDS} rounds`);
  console.log(`  start -> socket serving        median ${fmt(median(serve))}`);
  console.log(`  start -> reconciliation done   median ${fmt(median(reconcile))}   (every container re-inspected)`);
}

await main();

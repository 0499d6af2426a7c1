/**
 * Restart recovery: how long a restarted agent takes to serve its socket, and to finish
 * reconciling (re-reading every container from Docker), with
 *   - 1,000 persisted RUNNING tasks on the fake Docker, and
 *   - 100 RUNNING tasks on the real Docker engine (100 real containers).
 * SQLite on disk with synchronous=FULL in both.
 *
 *   npm run bench:recovery    (BENCH_TASKS, BENCH_DOCKER_TASKS, BENCH_ROUNDS change the sizes;
 *                              BENCH_DOCKER_TASKS=0 leaves the real engine out)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerDefinition, TASK_DEFAULTS } from '../src/api/task.js';
import { startAgent } from '../src/agent.js';
import { LABELS } from '../src/api/labels.js';
import { resolveConfig } from '../src/config/config.js';
import { ControlClient } from '../src/control/client.js';
import type { DockerClient } from '../src/docker/docker-client.js';
import { DockerodeClient } from '../src/docker/dockerode-client.js';
import { FakeDocker } from '../src/docker/fake-docker.js';
import { silentLogger } from '../src/log/logger.js';
import { openSqliteSaver } from '../src/state/sqlite-saver.js';
import { fmt, median } from './stats.js';
import { report } from './report.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 1000);
const DOCKER_TASKS = Number(process.env.BENCH_DOCKER_TASKS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FAKE_IMAGE = 'registry.bench:5000/app:1';
const REAL_IMAGE = process.env.BERTH_TEST_IMAGE ?? '127.0.0.1:5000/berth/busybox:latest';

interface Setup {
  readonly label: string;
  readonly docker: DockerClient;
  readonly tasks: number;
  readonly image: string;
}

async function measure({ label, docker, tasks, image }: Setup): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-recovery-'));
  const config = resolveConfig({ dataDir: join(dir, 'data') }, { env: {}, uid: 1000, home: dir });
  const boot = () => startAgent({ config, docker, saver: openSqliteSaver(config.databasePath), log: silentLogger(), defaultMetrics: false });
  const first = await boot();
  const agentId = first.agentId;
  try {
    for (let i = 0; i < tasks; i++) {
      await first.engine.addTask({
        kind: 'definition',
        task: {
          arn: `arn:bench:task/recovery-${process.pid}-${i}`,
          family: 'bench',
          version: '1',
          ...TASK_DEFAULTS,
          containers: [containerDefinition({ name: 'app', image, command: ['sleep', '600'], stopTimeout: 1 })],
        },
      });
    }
    await first.engine.idle();
    const running = first.engine.listTasks().filter((t) => t.knownStatus === 'RUNNING').length;
    await first.close();
    if (running !== tasks) throw new Error(`only ${running} of ${tasks} tasks reached RUNNING before the restart`);

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
      if (stillRunning !== tasks) throw new Error(`after restart ${stillRunning} of ${tasks} tasks are RUNNING`);
    }
    console.log(`restart with ${tasks} RUNNING tasks, ${label}, ${ROUNDS} rounds`);
    console.log(`  start -> socket serving        median ${fmt(median(serve))}`);
    console.log(`  start -> reconciliation done   median ${fmt(median(reconcile))}   (every container re-inspected)`);
    report({ scenario: `restart with ${tasks} RUNNING tasks, ${label}: serving`, unit: 'ms', berth: median(serve), rounds: ROUNDS });
    report({ scenario: `restart with ${tasks} RUNNING tasks, ${label}: reconciled`, unit: 'ms', berth: median(reconcile), rounds: ROUNDS });
  } finally {
    await removeContainersOf(docker, agentId);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function removeContainersOf(docker: DockerClient, agentId: string): Promise<void> {
  const left = await docker.listContainers({ [LABELS.agentId]: agentId });
  await Promise.all(
    left.map(async (c) => {
      if (c.state === 'running') await docker.stopContainer(c.id, 1);
      await docker.removeContainer(c.id);
    }),
  );
}

await measure({ label: 'fake Docker', docker: new FakeDocker({ images: [FAKE_IMAGE] }), tasks: TASKS, image: FAKE_IMAGE });
if (DOCKER_TASKS > 0) {
  const docker = new DockerodeClient({ socketPath: '/var/run/docker.sock', timeoutMs: 30_000, pullTimeoutMs: 600_000 });
  await measure({ label: 'real Docker engine', docker, tasks: DOCKER_TASKS, image: REAL_IMAGE });
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { StatsView } from '../../../src/api/stats-view.js';
import { AgentProcess, removeContainersOf, runCli } from '../../support/agent-process.js';
import { TEST_IMAGE } from '../global-setup.js';

/*
 * Container stats on real Docker, with the built agent sampling every second: a busy loop's
 * berth_container_cpu_percent rises in /metrics (read over the socket), its memory is counted
 * against the limit it was given, `agent task stats --no-stream --json` shows it, and its series
 * go once the task stops.
 */

const RUN = `st${process.pid}-${Date.now().toString(36)}`;
const ARN = `arn:berth:task/${RUN}`;
const LIMIT_MIB = 64;
let dir: string;
let agent: AgentProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-it-stats-'));
  agent = new AgentProcess(join(dir, 'data'), ['--stats-interval', '1s']);
  await agent.start();
});
afterAll(async () => {
  const id = await agent.client.get<{ agentId: string }>('/v1/metadata').then((r) => r.body.agentId, () => undefined);
  await agent.stop('SIGTERM');
  if (id) removeContainersOf(id);
  rmSync(dir, { recursive: true, force: true });
});

/** The value of `name`'s series for this test's task, or undefined when it has none. */
async function series(name: string): Promise<number | undefined> {
  const body = (await agent.client.get<string>('/metrics')).body;
  const line = body.split('\n').find((l) => l.startsWith(`${name}{task_arn="${ARN}",task_family="stats-it",container="busy"} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T;
  for (;;) {
    last = await read();
    if (done(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms; last ${JSON.stringify(last)}\n--- agent log ---\n${agent.log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

it("a busy container's CPU % rises in /metrics, agent task stats shows it, and its series go when the task stops", async () => {
  const posted = await agent.client.post('/v1/tasks', {
    arn: ARN,
    family: 'stats-it',
    containerDefinitions: [{ name: 'busy', image: TEST_IMAGE, command: ['sh', '-c', 'while :; do :; done'], memory: LIMIT_MIB, stopTimeout: 1 }],
  });
  expect(posted.status).toBe(201);
  await agent.waitForTask(ARN, (t) => t?.knownStatus === 'RUNNING');

  const cpu = await until('berth_container_cpu_percent above 10', () => series('berth_container_cpu_percent'), (v) => v !== undefined && v > 10);
  expect(cpu).toBeLessThan(100 * 64);
  expect(await series('berth_container_memory_usage_bytes')).toBeGreaterThan(0);
  expect(await series('berth_container_memory_limit_bytes')).toBe(LIMIT_MIB * 1024 * 1024);
  for (const name of ['network_rx_bytes', 'network_tx_bytes', 'block_read_bytes', 'block_write_bytes']) {
    expect(await series(`berth_container_${name}`)).toBeGreaterThanOrEqual(0);
  }

  const run = runCli(['task', 'stats', '--no-stream', '--json', '--data-dir', join(dir, 'data')]);
  expect(run.code).toBe(0);
  const view = JSON.parse(run.stdout) as StatsView;
  expect(view).toMatchObject({ enabled: true, intervalMs: 1_000 });
  const busy = view.containers.find((c) => c.taskArn === ARN);
  expect(busy).toMatchObject({ taskFamily: 'stats-it', container: 'busy', memoryLimitBytes: LIMIT_MIB * 1024 * 1024 });
  expect(busy!.cpuPercent).toBeGreaterThan(0);
  expect(busy!.memoryUsageBytes).toBeGreaterThan(0);
  expect(Math.abs(Date.parse(busy!.sampledAt) - Date.now())).toBeLessThan(30_000);

  await agent.client.post('/v1/tasks', { arn: ARN, desiredStatus: 'STOPPED' });
  await agent.waitForTask(ARN, (t) => t?.knownStatus === 'STOPPED');
  expect(await series('berth_container_memory_usage_bytes')).toBeUndefined();
  expect(await series('berth_container_cpu_percent')).toBeUndefined();
});

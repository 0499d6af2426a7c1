import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StatsView } from '../../../src/api/stats-view.js';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { runCli } from '../../../src/cli/program.js';
import { binaryBytes, decimalBytes, statsTable } from '../../../src/cli/render/stats.js';
import { FAKE_HOST_MEMORY_BYTES } from '../../../src/docker/fake-stats.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';
import { at, cli, Sink } from './support.js';

const STATS = { intervalMs: 50, maxTasks: 100, concurrency: 4 };

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${ms} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('agent task stats and the stats endpoints', () => {
  let a: InProcessAgent;
  const ARN = 'arn:stats:one';
  const OTHER = 'arn:stats:two';

  beforeEach(async () => {
    a = await new InProcessAgent().start({}, { stats: STATS });
    for (const arn of [ARN, OTHER]) {
      const posted = await a.client.post('/v1/tasks', taskBody(arn));
      expect(posted.status).toBe(201);
      await a.untilStatus(arn, 'RUNNING');
    }
  });
  afterEach(() => a.dispose());

  const sampled = (path: string): Promise<StatsView> =>
    until(
      async () => (await a.client.get<StatsView>(path)).body,
      (v) => v.containers.length > 0 && v.containers.every((c) => c.cpuPercent !== null),
    );

  it('GET /v1/stats has every running container, GET /v1/tasks/{arn}/stats one task, an unknown task is 404', async () => {
    const all = await sampled('/v1/stats');
    expect(all).toMatchObject({ enabled: true, intervalMs: 50 });
    expect(all.containers.map((c) => c.taskArn)).toEqual([ARN, OTHER]);
    expect(all.containers[0]).toMatchObject({ taskFamily: 'api', container: 'web', cpuPercent: 50, memoryUsageBytes: 4 * 1024 ** 2, memoryLimitBytes: FAKE_HOST_MEMORY_BYTES });
    expect(Math.abs(Date.parse(all.containers[0]!.sampledAt) - Date.now())).toBeLessThan(5_000);
    const one = await a.client.get<StatsView>(`/v1/tasks/${encodeURIComponent(OTHER)}/stats`);
    expect(one.status).toBe(200);
    expect(one.body.containers.map((c) => c.taskArn)).toEqual([OTHER]);
    const missing = await a.client.get<{ error: { code: string; message: string } }>('/v1/tasks/arn%3Anone/stats');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'TaskNotFound', message: 'no task with arn "arn:none"' });
  });

  it('a stopped task has no stats and no series in /metrics', async () => {
    await sampled('/v1/stats');
    const metrics = async (): Promise<string> => (await a.client.get<string>('/metrics')).body;
    expect(await metrics()).toMatch(/berth_container_cpu_percent\{task_arn="arn:stats:one",task_family="api",container="web"\} 50/);
    await a.client.post('/v1/tasks', { arn: ARN, desiredStatus: 'STOPPED' });
    await a.untilStatus(ARN, 'STOPPED');
    expect((await a.client.get<StatsView>(`/v1/tasks/${encodeURIComponent(ARN)}/stats`)).body.containers).toEqual([]);
    const body = await metrics();
    expect(body).not.toContain('task_arn="arn:stats:one"');
    expect(body).toContain('task_arn="arn:stats:two"');
  });

  it('prints one table with --no-stream (and when stdout is no terminal), the sample as JSON with --json', async () => {
    await sampled('/v1/stats');
    const run = await cli(['task', 'stats', '--no-stream', ...at(a)], { tty: true });
    expect(run.code).toBe(0);
    const [header, ...rows] = run.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^TASK\s+TASK FAMILY\s+CONTAINER\s+CPU %\s+MEM USAGE \/ LIMIT\s+NET I\/O\s+BLOCK I\/O$/);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^arn:stats:one\s+api\s+web\s+50\.00%\s+4MiB \/ 8GiB\s+0B \/ 0B\s+0B \/ 0B$/);
    const piped = await cli(['task', 'stats', OTHER, ...at(a)]);
    expect(piped.stdout.trimEnd().split('\n').slice(1).map((r) => r.split(/\s+/)[0])).toEqual([OTHER]);
    const json = await cli(['task', 'stats', ARN, '--json', ...at(a)]);
    const view = JSON.parse(json.stdout) as StatsView;
    expect(view.containers).toEqual([expect.objectContaining({ taskArn: ARN, container: 'web', cpuPercent: 50 })]);
    const missing = await cli(['task', 'stats', 'arn:none', ...at(a)]);
    expect(missing.code).toBe(EXIT.rejected);
    expect(missing.stderr).toContain('TaskNotFound');
  });

  it('redraws the table every interval on a terminal until Ctrl-C', async () => {
    await sampled('/v1/stats');
    const stdout = new Sink(true);
    const abort = new AbortController();
    const run = runCli(['task', 'stats', ...at(a)], { stdout, stderr: new Sink(true), env: {}, signal: abort.signal });
    const frames = (): number => stdout.text.split('\x1b[2J\x1b[H').length - 1;
    await until(async () => frames(), (n) => n >= 3);
    abort.abort();
    expect(await run).toBe(EXIT.ok);
    expect(stdout.text.split('\x1b[2J\x1b[H').at(-1)).toMatch(/^TASK\s+TASK FAMILY/);
  });
});

describe('statsTable', () => {
  const view: StatsView = { enabled: true, intervalMs: 10_000, containers: [] };

  it('says why there is nothing to show', () => {
    expect(statsTable(view)).toBe('no running container sampled yet (sampled every 10s)');
    expect(statsTable({ ...view, enabled: false, detail: 'off while more than 100 tasks have a running container (now 120)' })).toBe(
      'container stats are off while more than 100 tasks have a running container (now 120)',
    );
  });

  it('writes sizes as docker stats does: memory in KiB/MiB/GiB, I/O in kB/MB/GB, 4 significant digits; CPU unknown as -', () => {
    expect([binaryBytes(0), binaryBytes(1023), binaryBytes(1536), binaryBytes(2 * 1024 ** 3 - 1024 ** 2)]).toEqual(['0B', '1023B', '1.5KiB', '1.999GiB']);
    expect([decimalBytes(648), decimalBytes(1_234), decimalBytes(45_678_901)]).toEqual(['648B', '1.234kB', '45.68MB']);
    const row = statsTable({
      ...view,
      containers: [
        {
          taskArn: 'arn:x',
          taskFamily: 'web',
          container: 'app',
          dockerId: 'd',
          cpuPercent: null,
          memoryUsageBytes: 1536,
          memoryLimitBytes: 1024 ** 3,
          network: { rxBytes: 1_000, txBytes: 2_500_000 },
          blockIo: { readBytes: 0, writeBytes: 12 },
          sampledAt: '2026-12-02T00:00:00.000Z',
        },
      ],
    }).split('\n')[1];
    expect(row).toMatch(/^arn:x\s+web\s+app\s+-\s+1\.5KiB \/ 1GiB\s+1kB \/ 2\.5MB\s+0B \/ 12B$/);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Health } from '../../../src/control/routes.js';
import type { RouteRecord } from '../../../src/routes/route-record.js';
import type { RouteStatus } from '../../../src/routes/route-runner.js';
import { AgentProcess, removeContainersOf, runCli } from '../../support/agent-process.js';
import { TEST_IMAGE } from '../global-setup.js';

/*
 * Event routes through the built agent on real Docker, with webhook receivers on 127.0.0.1 in
 * this process: what each route gets, in what order, across a SIGKILL, and what happens to a
 * route whose backend stays down past retention's hard cap.
 */

const RUN = `rt${process.pid}-${Date.now().toString(36)}`;

/** One receiver per path; `answer` decides each POST's status, `delayMs` how long it takes. */
class Receiver {
  readonly got = new Map<string, RouteRecord[]>();
  readonly attempts = new Map<string, number>();
  answer: (path: string) => number = () => 204;
  delayMs = 0;
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const path = req.url ?? '';
        this.attempts.set(path, (this.attempts.get(path) ?? 0) + 1);
        setTimeout(() => {
          const status = this.answer(path);
          if (status < 300) this.got.set(path, [...(this.got.get(path) ?? []), JSON.parse(body) as RouteRecord]);
          res.writeHead(status).end();
        }, this.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  records(path: string): RouteRecord[] {
    return this.got.get(path) ?? [];
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const roots: string[] = [];
const agents: AgentProcess[] = [];
let receiver: Receiver;

beforeAll(async () => {
  receiver = new Receiver();
  await receiver.start();
});
afterEach(async () => {
  for (const a of agents.splice(0)) {
    const id = (await a.client.get<{ agentId: string }>('/v1/metadata').catch(() => undefined))?.body.agentId;
    await a.stop('SIGKILL');
    if (id) removeContainersOf(id);
  }
  receiver.answer = () => 204;
  receiver.delayMs = 0;
  receiver.got.clear();
  receiver.attempts.clear();
});
afterAll(async () => {
  await receiver.stop();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function agentWith(routes: (root: string) => unknown[], extraArgs: string[] = []): { agent: AgentProcess; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'berth-routes-it-'));
  roots.push(root);
  const config = join(root, 'berth.yaml');
  writeFileSync(config, JSON.stringify({ routes: routes(root) }));
  const agent = new AgentProcess(join(root, 'data'), ['--config', config, '--cleanup-wait', '1h', ...extraArgs]);
  agents.push(agent);
  return { agent, root };
}

/** A task of `count` long-running containers labelled `tier`. */
function task(label: string, tier: string, count = 1): { arn: string; body: Record<string, unknown> } {
  const arn = `arn:berth:task/${RUN}-${label}`;
  const containerDefinitions = Array.from({ length: count }, (_, i) => ({
    name: `c${i}`,
    image: TEST_IMAGE,
    command: ['sleep', '3600'],
    dockerLabels: { tier },
    stopTimeout: 1,
  }));
  return { arn, body: { arn, family: `routes-${tier}`, containerDefinitions } };
}

async function runThenStop(agent: AgentProcess, t: { arn: string; body: Record<string, unknown> }): Promise<void> {
  expect((await agent.client.post('/v1/tasks', t.body)).status).toBe(201);
  await agent.waitForTask(t.arn, (v) => v?.knownStatus === 'RUNNING');
  expect((await agent.client.post('/v1/tasks', { ...t.body, desiredStatus: 'STOPPED' })).status).toBe(200);
  await agent.waitForTask(t.arn, (v) => v?.knownStatus === 'STOPPED');
}

async function until<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T;
  do {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  } while (Date.now() < deadline);
  throw new Error(`${what} did not happen within ${ms} ms; last: ${JSON.stringify(last, null, 1)}`);
}

const actions = (records: RouteRecord[]): string[] =>
  records.flatMap((r) => (r.kind === 'action' ? [`${r.action} ${r.container.task.split('-').at(-1)}/${r.container.name}`] : []));

const routeStatus = async (agent: AgentProcess, name: string): Promise<RouteStatus> =>
  (await agent.client.get<{ routes: RouteStatus[] }>('/v1/routes')).body.routes.find((r) => r.name === name)!;

describe('event routes', () => {
  it('two filters and a broken backend: the healthy routes get every matching action once and in order, the broken one retries', async () => {
    const { agent, root } = agentWith((dir) => [
      { name: 'web', filter: 'tier=web', backend: { type: 'webhook', url: receiver.url('/web') } },
      { name: 'everything', backend: { type: 'file', path: join(dir, 'events.ndjson') } },
      { name: 'broken', backend: { type: 'webhook', url: receiver.url('/broken') }, retry: { initial: '50ms', max: '200ms' } },
    ]);
    receiver.answer = (path) => (path === '/broken' ? 503 : 204);
    await agent.start();
    await runThenStop(agent, task('web', 'web'));
    await runThenStop(agent, task('db', 'db'));

    const web = await until('the web route delivering', () => receiver.records('/web'), (r) => r.length >= 2);
    expect(actions(web)).toEqual(['start web/c0', 'stop web/c0']);
    const file = await until(
      'the file route delivering',
      () => readFileSync(join(root, 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RouteRecord),
      (r) => r.length >= 4,
    );
    expect(actions(file)).toEqual(['start web/c0', 'stop web/c0', 'start db/c0', 'stop db/c0']);
    expect(file.map((r) => r.seq)).toEqual([...file.map((r) => r.seq)].sort((a, b) => a - b));
    const start = file[0]!;
    expect(start.kind === 'action' && start.container).toMatchObject({ service: 'routes-web/c0', labels: { tier: 'web' }, status: 'RUNNING', id: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // The broken route keeps trying the first record and has delivered nothing; the others do not wait for it.
    await until('the broken route retrying', () => receiver.attempts.get('/broken') ?? 0, (n) => n >= 3);
    expect(receiver.records('/broken')).toEqual([]);
    const broken = await routeStatus(agent, 'broken');
    expect(broken).toMatchObject({ delivered: 0, failingSince: expect.any(String), lastError: { message: expect.stringContaining('answered 503') } });
    expect(broken.lag).toBeGreaterThan(0);
    expect(await routeStatus(agent, 'web')).toMatchObject({ lag: 0, delivered: 2 });
    const health = await agent.client.get<Health>('/v1/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ healthy: true, degraded: true, checks: { routes: { ok: false, detail: expect.stringContaining('route broken failing') } } });
    const metrics = (await agent.client.get<string>('/metrics')).body;
    expect(metrics).toMatch(/berth_route_delivered_total\{route="web"\} 2/);
    expect(metrics).toMatch(/berth_route_failures_total\{route="broken"\} [1-9]/);

    // beacon's Containers(filter): nothing runs now; a bad pattern is a 400 naming it.
    expect((await agent.client.get('/v1/containers?filter=tier=web')).body).toEqual({ containers: [] });
    const bad = await agent.client.get('/v1/containers?filter=tier');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { message: 'invalid filter pattern: tier' } });

    // Once the backend recovers it delivers everything, from the first record, in order.
    receiver.answer = () => 204;
    const healed = await until('the broken route catching up', () => receiver.records('/broken'), (r) => r.length >= 4);
    expect(actions([...healed].sort((a, b) => a.seq - b.seq))).toEqual(actions(file));

    // state dump, read from the database while the agent runs, shows each route's progress.
    const dump = runCli(['state', 'dump', '--json', '--data-dir', agent.dataDir]);
    expect(dump.code).toBe(0);
    expect((JSON.parse(dump.stdout) as { routes: Array<{ name: string; delivered: number }> }).routes).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'web', delivered: 2 })]),
    );
  });

  it('SIGKILL mid-delivery: after the restart nothing is missed, and a record delivered twice has the same seq', async () => {
    const { agent } = agentWith(() => [{ name: 'web', filter: 'tier=web', backend: { type: 'webhook', url: receiver.url('/slow'), concurrency: 1 } }]);
    await agent.start();
    receiver.delayMs = 250;
    const t = task('kill', 'web', 4);
    expect((await agent.client.post('/v1/tasks', t.body)).status).toBe(201);
    await agent.waitForTask(t.arn, (v) => v?.knownStatus === 'RUNNING');
    await until('a first delivery', () => receiver.records('/slow').length, (n) => n >= 1);
    const lastBefore = (await agent.client.get<{ events: { lastSeq: number } }>('/v1/metadata')).body.events.lastSeq;
    await agent.stop('SIGKILL');
    const deliveredBeforeKill = receiver.records('/slow').length;
    expect(deliveredBeforeKill).toBeLessThan(4);

    receiver.delayMs = 0;
    await agent.start();
    const all = await until(
      'every start delivered',
      () => receiver.records('/slow'),
      (r) => new Set(r.map((x) => x.seq)).size >= 4,
    );
    const bySeq = new Map<number, string>();
    for (const r of all) {
      const body = JSON.stringify(r);
      expect(bySeq.get(r.seq) ?? body).toBe(body);
      bySeq.set(r.seq, body);
    }
    expect([...bySeq.keys()].every((s) => s <= lastBefore)).toBe(true);
    expect(new Set(actions(all))).toEqual(new Set(['start kill/c0', 'start kill/c1', 'start kill/c2', 'start kill/c3']));
  });

  it('a backend down past the hard cap: the gap is recorded, reported, and delivery goes on after it', async () => {
    const { agent } = agentWith(
      () => [{ name: 'down', backend: { type: 'webhook', url: receiver.url('/down') }, retry: { initial: '50ms', max: '100ms' } }],
      ['--event-retention-count', '1', '--event-retention-hard-cap', '3', '--event-retention-interval', '1s'],
    );
    receiver.answer = () => 503;
    await agent.start();
    await runThenStop(agent, task('gap', 'web', 2));
    // Retention keeps only the newest 3 events, although the route delivered none of them.
    await until('retention pruning past the cap', async () => (await agent.client.get<{ events: { oldestSeq: number; lastSeq: number } }>('/v1/metadata')).body.events, (e) => e.lastSeq - e.oldestSeq + 1 <= 3);
    // The events the route holds in memory are not lost; after a restart it reads the feed again and finds the gap.
    await agent.stop('SIGTERM');
    receiver.answer = () => 204;
    await agent.start();
    const status = await until('the gap recorded', () => routeStatus(agent, 'down'), (s) => s.gapEvents > 0 && s.lag === 0);
    // From the first record it had not delivered to the oldest event retention kept.
    const { oldestSeq } = (await agent.client.get<{ events: { oldestSeq: number } }>('/v1/metadata')).body.events;
    expect(status.lastGap).toMatchObject({ to: oldestSeq - 1 });
    expect(status.gapEvents).toBe(status.lastGap!.to - status.lastGap!.from + 1);
    // What was kept is delivered: the route goes on after the gap.
    expect(receiver.records('/down').map((r) => r.seq).every((s) => s >= oldestSeq)).toBe(true);
    expect(receiver.records('/down').length).toBeGreaterThan(0);
    const health = await agent.client.get<Health>('/v1/health');
    expect(health.body).toMatchObject({ healthy: true, degraded: true, checks: { routes: { detail: `route down lost events ${status.lastGap!.from}-${status.lastGap!.to} to retention's hard cap` } } });
    expect((await agent.client.get<string>('/metrics')).body).toMatch(/berth_route_gap_events_total\{route="down"\} [1-9]/);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openNdjson, type NdjsonStream } from '../../../src/cli/client/ndjson.js';
import type { Service } from '../../../src/services/service-of.js';
import { openSqliteSaver } from '../../../src/state/sqlite-saver.js';
import type { Saver } from '../../../src/state/saver.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';
import { IMAGE } from '../../support/fixtures.js';

const ARN_A = 'arn:aws:ecs:eu-west-1:1:task/c/svc-a';
const ARN_B = 'arn:aws:ecs:eu-west-1:1:task/c/svc-b';

type Line = { type: 'added' | 'removed'; service: Service } | { type: 'synced' };

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('GET /v1/services on the fake Docker', () => {
  const agents: InProcessAgent[] = [];
  const streams: NdjsonStream[] = [];
  afterEach(async () => {
    streams.splice(0).forEach((s) => s.close());
    for (const a of agents.splice(0).reverse()) await a.dispose();
  });

  async function agentWithTwoTasks(saver?: Saver): Promise<InProcessAgent> {
    const agent = await new InProcessAgent(saver ? { saver } : {}).start();
    agents.push(agent);
    const b = taskBody(ARN_B, {
      containers: [{ name: 'cache', image: IMAGE, command: ['sleep', '300'], labels: { 'berth.ad.id': 'redis', tier: 'cache' } }],
    });
    expect((await agent.client.post('/v1/tasks', taskBody(ARN_A))).status).toBe(201);
    expect((await agent.client.post('/v1/tasks', b)).status).toBe(201);
    await agent.untilStatus(ARN_A, 'RUNNING');
    await agent.untilStatus(ARN_B, 'RUNNING');
    return agent;
  }

  async function watch(agent: InProcessAgent): Promise<Line[]> {
    const lines: Line[] = [];
    streams.push(await openNdjson(agent.config.socketPath, '/v1/services?watch=1', (v) => lines.push(v as Line)));
    await until(() => lines.some((l) => l.type === 'synced'));
    return lines;
  }

  it('lists every running container as a service, sorted by id, with its identifiers, hosts, ports and tags', async () => {
    const agent = await agentWithTwoTasks();
    const res = await agent.client.get<{ services: Service[] }>('/v1/services');
    expect(res.status).toBe(200);
    const { services } = res.body;
    expect(services.map((s) => s.id)).toEqual(services.map((s) => s.id).sort());
    const web = services.find((s) => s.taskArn === ARN_A)!;
    const cache = services.find((s) => s.taskArn === ARN_B)!;
    expect(web).toMatchObject({
      adIdentifiers: [`docker://${web.id}`, IMAGE.replace(/:latest$/, ''), 'busybox'],
      hosts: { bridge: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/) },
      ports: [80],
      tags: [],
      pid: expect.any(Number),
      health: 'UNKNOWN',
      family: 'api',
      containerName: 'web',
      image: IMAGE,
    });
    expect(cache).toMatchObject({ adIdentifiers: ['redis'], tags: ['tier:cache'], ports: [] });
  });

  it('watch: every current service as added, then synced, then added and removed as containers change', async () => {
    const agent = await agentWithTwoTasks();
    const lines = await watch(agent);
    const { services } = (await agent.client.get<{ services: Service[] }>('/v1/services')).body;
    expect(lines).toEqual([...services.map((service) => ({ type: 'added', service })), { type: 'synced' }]);
    lines.length = 0;

    const web = services.find((s) => s.taskArn === ARN_A)!;
    agent.docker.connectNetwork(web.id, 'backend', '10.7.0.4');
    await until(() => lines.length >= 2);
    expect(lines).toEqual([
      { type: 'removed', service: web },
      { type: 'added', service: { ...web, hosts: { ...web.hosts, backend: '10.7.0.4' } } },
    ]);
    lines.length = 0;

    agent.docker.crash(web.id, 1);
    await until(() => lines.length >= 1);
    expect(lines).toEqual([{ type: 'removed', service: { ...web, hosts: { ...web.hosts, backend: '10.7.0.4' } } }]);
    expect((await agent.client.get<{ services: Service[] }>('/v1/services')).body.services.map((s) => s.taskArn)).toEqual([ARN_B]);
  });

  it('refuses an unknown parameter or a bad watch value, naming it', async () => {
    const agent = await agentWithTwoTasks();
    const unknown = await agent.client.get<{ error: { message: string } }>('/v1/services?filter=a');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe('unknown query parameter "filter"; allowed: watch');
    const bad = await agent.client.get<{ error: { message: string } }>('/v1/services?watch=yes');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe('watch must be true, false, 1 or 0, got "yes"');
  });

  it('after a restart on the same SQLite state with the containers still running: the same list, and a watch shows only added, then synced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-services-'));
    const first = await agentWithTwoTasks(openSqliteSaver(join(dir, 'state.db')));
    const before = (await first.client.get<{ services: Service[] }>('/v1/services')).body.services;
    expect(before.every((s) => s.pid !== undefined && Object.keys(s.hosts).length > 0)).toBe(true);
    await first.stop();
    const second = await new InProcessAgent({ docker: first.docker, saver: openSqliteSaver(join(dir, 'state.db')) }).start();
    agents.push(second);
    const lines = await watch(second);
    expect(lines).toEqual([...before.map((service) => ({ type: 'added', service })), { type: 'synced' }]);
    await second.agent!.engine.idle();
    expect((await second.client.get<{ services: Service[] }>('/v1/services')).body.services).toEqual(before);
    expect(lines).toHaveLength(before.length + 1);
    await second.stop();
    rmSync(dir, { recursive: true, force: true });
  });
});

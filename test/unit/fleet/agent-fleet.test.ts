import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../../src/agent.js';
import { resolveConfig } from '../../../src/config/config.js';
import { ControlClient } from '../../../src/control/client.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { FakeEtcd } from '../../../src/fleet/fake-etcd.js';
import { silentLogger } from '../../../src/log/logger.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { systemClock } from '../../../src/util/clock.js';
import { IMAGE } from '../../support/fixtures.js';

const TASKS = '/berth/hosts/h1/tasks/';
const STATUS = '/berth/hosts/h1/status/';

async function until<T>(read: () => T | undefined, what: string, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function taskValue(family: string): string {
  return JSON.stringify({ family, version: '1', containers: [{ name: 'app', image: IMAGE, command: ['sleep', '300'] }] });
}

describe('an agent with etcd endpoints', () => {
  const dirs: string[] = [];
  const agents: RunningAgent[] = [];
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close()));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function start(etcd: FakeEtcd): Promise<{ agent: RunningAgent; docker: FakeDocker; client: ControlClient }> {
    const dir = mkdtempSync(join(tmpdir(), 'berth-fleet-'));
    dirs.push(dir);
    const config = resolveConfig({ dataDir: dir, etcdEndpoints: 'http://127.0.0.1:1', hostName: 'h1' }, { env: {}, uid: 1000, home: dir });
    const docker = new FakeDocker({ images: [IMAGE] });
    const agent = await startAgent({ config, docker, saver: new MemorySaver(), log: silentLogger(), defaultMetrics: false, etcd });
    agents.push(agent);
    return { agent, docker, client: new ControlClient(config.socketPath, 5_000) };
  }

  it('runs its host’s task keys, writes their status and its alive key, and stops a task whose key is deleted', async () => {
    const etcd = new FakeEtcd(systemClock);
    await etcd.put(`${TASKS}web`, taskValue('web'));
    await etcd.put('/berth/hosts/h2/tasks/other', taskValue('other'));
    const { agent } = await start(etcd);
    const status = await until(() => {
      const raw = etcd.get(`${STATUS}arn:berth:task/web:1`);
      const doc = raw === undefined ? undefined : (JSON.parse(raw) as { knownStatus: string; containers: { dockerId?: string }[] });
      return doc?.knownStatus === 'RUNNING' ? doc : undefined;
    }, 'web RUNNING in etcd');
    expect(status.containers[0]!.dockerId).toBe(agent.engine.getTask('arn:berth:task/web:1')!.containers[0]!.dockerId);
    expect(agent.engine.getTask('arn:berth:task/other:1')).toBeUndefined();
    expect(JSON.parse(etcd.get('/berth/hosts/h1/alive')!)).toMatchObject({ agentId: agent.agentId });
    await etcd.delete(`${TASKS}web`);
    await until(() => (agent.engine.getTask('arn:berth:task/web:1')?.knownStatus === 'STOPPED' ? true : undefined), 'web STOPPED');
  });

  it('keeps running and serving while etcd is down, health degraded (not unhealthy) with an etcd check, and catches up after', async () => {
    const etcd = new FakeEtcd(systemClock);
    await etcd.put(`${TASKS}web`, taskValue('web'));
    const { agent, client } = await start(etcd);
    await until(() => (agent.engine.getTask('arn:berth:task/web:1')?.knownStatus === 'RUNNING' ? true : undefined), 'web RUNNING');
    etcd.down();
    // The status write of the stop fails: the link is down.
    await agent.engine.addTask({ kind: 'desired-status', arn: 'arn:berth:task/web:1', desiredStatus: 'STOPPED' });
    const degraded = await untilAsync(async () => {
      const res = await client.get<{ healthy: boolean; degraded: boolean; checks: Record<string, { ok: boolean; detail: string }> }>('/v1/health');
      return res.body.degraded ? res : undefined;
    });
    expect(degraded.status).toBe(200);
    expect(degraded.body).toMatchObject({ healthy: true, degraded: true, checks: { etcd: { ok: false, detail: expect.stringMatching(/unreachable for \d+ s: fake etcd is down/) } } });
    const metrics = (await client.get<string>('/metrics')).body;
    expect(metrics).toMatch(/^berth_etcd_up 0$/m);
    expect(metrics).toMatch(/^berth_etcd_status_pending [1-9]/m);
    expect(agent.engine.getTask('arn:berth:task/web:1')).toBeDefined();
    etcd.up();
    await until(() => (JSON.parse(etcd.get(`${STATUS}arn:berth:task/web:1`) ?? '{}') as { knownStatus?: string }).knownStatus === 'STOPPED' || undefined, 'STOPPED in etcd', 20_000);
    const after = (await client.get<string>('/metrics')).body;
    expect(after).toMatch(/^berth_etcd_up 1$/m);
    expect(after).toMatch(/^berth_etcd_status_writes_total [1-9]/m);
  });
});

async function untilAsync<T>(read: () => Promise<T | undefined>, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

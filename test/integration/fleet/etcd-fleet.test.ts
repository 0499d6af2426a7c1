import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskStatusDoc } from '../../../src/fleet/task-status-doc.js';
import { gatewayClient } from '../../../src/fleet/etcd-gateway-client.js';
import { AgentProcess, docker, removeContainersOf, runCli } from '../../support/agent-process.js';
import { ETCD_ENDPOINTS, etcdHealthy, etcdMember, removePrefix, runPrefix } from '../../support/etcd-cluster.js';
import { TEST_IMAGE } from '../global-setup.js';

/**
 * Three agents (own data directories and ids, one Docker engine) on the three-member test cluster,
 * each its own host under one run's prefix; each agent's etcd source is merged with its other
 * sources (src/sources/), as in production.
 */
const PREFIX = runPrefix();
const RUN = PREFIX.split('/').pop()!;
const HOSTS = ['h1', 'h2', 'h3'] as const;
const etcd = gatewayClient({ endpoints: [...ETCD_ENDPOINTS], timeoutMs: 2_000 });
const agents = new Map<string, AgentProcess>();
const agentIds = new Map<string, string>();
const dirs: string[] = [];

const tasksKey = (host: string, name: string): string => `${PREFIX}/hosts/${host}/tasks/${name}`;
const arnOf = (host: string, name: string): string => `arn:berth:task/f${RUN}-${host}-${name}:1`;

function taskValue(host: string, name: string, command: string[] = ['sleep', '300']): string {
  return JSON.stringify({ family: `f${RUN}-${host}-${name}`, version: '1', containers: [{ name: 'app', image: TEST_IMAGE, command, stopTimeout: 1 }] });
}

/** Puts a key, retrying while the cluster has no quorum (a write the control plane keeps trying). */
async function put(key: string, value: string): Promise<void> {
  await until(async () => etcd.put(key, value).then(() => true, () => undefined), `put ${key}`, 60_000);
}

async function status(host: string, arn: string): Promise<TaskStatusDoc | undefined> {
  const { kvs } = await etcd.range(`${PREFIX}/hosts/${host}/status/${arn}`);
  const kv = kvs.find((k) => k.key.endsWith(`/status/${arn}`));
  return kv ? (JSON.parse(kv.value) as TaskStatusDoc) : undefined;
}

async function until<T>(read: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const statusIs = (host: string, arn: string, known: string) =>
  until(async () => {
    const s = await status(host, arn);
    return s?.knownStatus === known ? s : undefined;
  }, `${arn} ${known} in etcd`);

function containersOf(arn: string): string[] {
  const out = docker('ps', '-aq', '--filter', `label=berth.task-arn=${arn}`);
  return out ? out.split('\n') : [];
}

function startAgent(host: string): Promise<void> {
  let agent = agents.get(host);
  if (!agent) {
    const dir = mkdtempSync(join(tmpdir(), `berth-fleet-${host}-`));
    dirs.push(dir);
    agent = new AgentProcess(dir, ['--etcd-endpoints', ETCD_ENDPOINTS.join(','), '--etcd-prefix', PREFIX, '--host-name', host, '--etcd-lease-ttl', '3', '--cleanup-wait', '1h']);
    agents.set(host, agent);
  }
  return agent.start();
}

describe('a fleet of three agents on a three-member etcd cluster', () => {
  beforeAll(async () => {
    expect(etcdHealthy()).toBe(true);
    for (const host of HOSTS) await put(tasksKey(host, 'base'), taskValue(host, 'base'));
    for (const host of HOSTS) await startAgent(host);
    for (const host of HOSTS) {
      const meta = await agents.get(host)!.client.get<{ agentId: string }>('/v1/metadata');
      agentIds.set(host, meta.body.agentId);
    }
  });

  afterAll(async () => {
    for (const n of [1, 2, 3] as const) etcdMember('start', n);
    for (const agent of agents.values()) await agent.stop();
    for (const id of agentIds.values()) removeContainersOf(id);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await removePrefix(etcd, `${PREFIX}/`);
    await etcd.close();
  });

  it('each agent runs exactly its own host’s tasks, and the status it writes matches Docker', async () => {
    for (const host of HOSTS) {
      const s = await statusIs(host, arnOf(host, 'base'), 'RUNNING');
      const [id] = containersOf(arnOf(host, 'base'));
      expect(containersOf(arnOf(host, 'base'))).toHaveLength(1);
      expect(s.containers[0]!.dockerId!.startsWith(id!)).toBe(true);
      expect(docker('inspect', '-f', '{{.State.Running}} {{index .Config.Labels "berth.agent-id"}}', s.containers[0]!.dockerId!)).toBe(`true ${agentIds.get(host)}`);
    }
    for (const host of HOSTS) {
      const tasks = (await agents.get(host)!.client.get<{ tasks: { arn: string }[] }>('/v1/tasks')).body.tasks.map((t) => t.arn);
      expect(tasks).toEqual([arnOf(host, 'base')]);
    }
    // An exit code in etcd is Docker's.
    await put(tasksKey('h1', 'exits'), taskValue('h1', 'exits', ['sh', '-c', 'exit 3']));
    const stopped = await statusIs('h1', arnOf('h1', 'exits'), 'STOPPED');
    expect(stopped.containers[0]!.exitCode).toBe(3);
    expect(docker('inspect', '-f', '{{.State.ExitCode}}', stopped.containers[0]!.dockerId!)).toBe('3');
  });

  it('one etcd member stopped changes nothing: new tasks still run and report', async () => {
    etcdMember('stop', 1);
    try {
      await put(tasksKey('h2', 'one-down'), taskValue('h2', 'one-down'));
      await statusIs('h2', arnOf('h2', 'one-down'), 'RUNNING');
      const health = await agents.get('h2')!.client.get<{ degraded: boolean }>('/v1/health');
      expect(health.status).toBe(200);
    } finally {
      etcdMember('start', 1);
    }
  });

  it('two members stopped, then back: no update is lost either way', async () => {
    await statusIs('h3', arnOf('h3', 'base'), 'RUNNING');
    etcdMember('stop', 1);
    etcdMember('stop', 2);
    try {
      // A change on the host while etcd has no quorum: the agent keeps running and serving.
      docker('kill', (await agents.get('h3')!.task(arnOf('h3', 'base')))!.containers[0]!.dockerId!);
      await agents.get('h3')!.waitForTask(arnOf('h3', 'base'), (t) => t?.knownStatus === 'STOPPED');
      const health = await until(async () => {
        const h = await agents.get('h3')!.client.get<{ healthy: boolean; degraded: boolean; checks: Record<string, { ok: boolean }> }>('/v1/health');
        return h.body.checks.etcd?.ok === false ? h : undefined;
      }, 'the etcd check failing', 30_000);
      expect(health.status).toBe(200);
      expect(health.body.degraded).toBe(true);
    } finally {
      etcdMember('start', 1);
      etcdMember('start', 2);
    }
    // The control plane's write made once the cluster is back, and the host's status made during the outage, both arrive.
    await put(tasksKey('h3', 'after-outage'), taskValue('h3', 'after-outage'));
    await statusIs('h3', arnOf('h3', 'base'), 'STOPPED');
    await statusIs('h3', arnOf('h3', 'after-outage'), 'RUNNING');
  });

  it('an agent SIGKILLed and restarted: no duplicate container, no missed update', async () => {
    const h2 = agents.get('h2')!;
    await statusIs('h2', arnOf('h2', 'base'), 'RUNNING');
    await h2.stop('SIGKILL');
    // While it is dead: a new task for it, and one of its tasks taken away.
    await put(tasksKey('h2', 'while-dead'), taskValue('h2', 'while-dead'));
    await etcd.delete(tasksKey('h2', 'one-down'));
    await startAgent('h2');
    await statusIs('h2', arnOf('h2', 'while-dead'), 'RUNNING');
    await statusIs('h2', arnOf('h2', 'one-down'), 'STOPPED');
    const base = await statusIs('h2', arnOf('h2', 'base'), 'RUNNING');
    expect(containersOf(arnOf('h2', 'base'))).toHaveLength(1);
    expect(containersOf(arnOf('h2', 'while-dead'))).toHaveLength(1);
    expect(docker('inspect', '-f', '{{.State.Running}}', base.containers[0]!.dockerId!)).toBe('true');
  });

  it('agent fleet ls shows the three hosts alive, with their task keys and statuses', async () => {
    const ls = await until(async () => {
      const r = runCli(['fleet', 'ls', '--etcd-endpoints', ETCD_ENDPOINTS.join(','), '--etcd-prefix', PREFIX, '--json']);
      const hosts = JSON.parse(r.stdout) as { host: string; alive: boolean; tasks: number; statuses: Record<string, number> }[];
      return hosts.length === 3 && hosts.every((h) => h.alive) ? hosts : undefined;
    }, 'three alive hosts');
    expect(ls.map((h) => [h.host, h.tasks])).toEqual([['h1', 2], ['h2', 2], ['h3', 2]]);
    expect(ls.find((h) => h.host === 'h1')!.statuses).toEqual({ RUNNING: 1, STOPPED: 1 });
    const text = runCli(['fleet', 'ls', '--etcd-endpoints', ETCD_ENDPOINTS.join(','), '--etcd-prefix', PREFIX]);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^HOST\s+ALIVE\s+AGENT\s+VERSION\s+UP\s+TASKS\s+STATUS$/);
    // A SIGKILLed agent's alive key goes with its lease.
    await agents.get('h1')!.stop('SIGKILL');
    await until(async () => {
      const r = runCli(['fleet', 'ls', '--etcd-endpoints', ETCD_ENDPOINTS.join(','), '--etcd-prefix', PREFIX, '--json']);
      const hosts = JSON.parse(r.stdout) as { host: string; alive: boolean }[];
      return hosts.find((h) => h.host === 'h1')?.alive === false ? true : undefined;
    }, 'h1 not alive', 20_000);
  });
});

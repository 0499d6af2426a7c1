import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { openNdjson, type NdjsonStream } from '../../../src/cli/client/ndjson.js';
import type { Service } from '../../../src/services/service-of.js';
import { AgentProcess, docker, removeContainersOf } from '../../support/agent-process.js';
import { TEST_IMAGE } from '../global-setup.js';

/*
 * The services view on real Docker, with the built agent: two running containers (one publishing
 * a port on 127.0.0.1) listed and watched; `docker network connect` changes one's hosts (removed +
 * added); `docker stop` of the other removes it; the agent restarted with SIGTERM on the same data
 * directory lists the same service, and a watch opened at once shows it added, synced, and nothing
 * more once the agent has re-read its container.
 */

const RUN = `sv${process.pid}-${Date.now().toString(36)}`;
const NETWORK = `berth-it-${RUN}`;
const dir = mkdtempSync(join(tmpdir(), 'berth-it-services-'));
const agent = new AgentProcess(join(dir, 'data'));
const streams: NdjsonStream[] = [];
let agentId: string | undefined;

afterAll(async () => {
  streams.forEach((s) => s.close());
  await agent.stop('SIGTERM');
  if (agentId) removeContainersOf(agentId);
  try {
    docker('network', 'rm', NETWORK);
  } catch {
    // Not made (the test failed before) or already gone.
  }
  rmSync(dir, { recursive: true, force: true });
});

type Line = { type: 'added' | 'removed'; service: Service } | { type: 'synced' };

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms\n--- agent log ---\n${agent.log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function list(): Promise<Service[]> {
  const res = await agent.client.get<{ services: Service[] }>('/v1/services');
  expect(res.status).toBe(200);
  return res.body.services;
}

async function watch(): Promise<Line[]> {
  const lines: Line[] = [];
  streams.push(await openNdjson(join(agent.dataDir, 'agent.sock'), '/v1/services?watch=1', (v) => lines.push(v as Line)));
  await until(() => lines.some((l) => l.type === 'synced'), 'synced');
  return lines;
}

const inspect = (format: string, id: string): string => docker('inspect', '-f', format, id);

it('lists and watches running containers as services, follows a network connect and a stop, and survives a restart without spurious records', async () => {
  await agent.start();
  agentId = (await agent.client.get<{ agentId: string }>('/v1/metadata')).body.agentId;
  docker('network', 'create', '--label', `berth.test-run=${RUN}`, NETWORK);

  const webArn = `arn:berth:task/${RUN}-web`;
  const cacheArn = `arn:berth:task/${RUN}-cache`;
  const container = (name: string, extra: Record<string, unknown>) => ({ name, image: TEST_IMAGE, command: ['sleep', '3600'], stopTimeout: 1, ...extra });
  const web = { arn: webArn, family: 'services-it', containerDefinitions: [container('web', { portMappings: [{ containerPort: 8080 }], dockerLabels: { team: 'web' } })] };
  const cache = { arn: cacheArn, family: 'services-it', containerDefinitions: [container('cache', { dockerLabels: { 'berth.ad.id': 'redis' } })] };
  expect((await agent.client.post('/v1/tasks', web)).status).toBe(201);
  expect((await agent.client.post('/v1/tasks', cache)).status).toBe(201);
  const running = (t: TaskView | undefined): boolean => t?.knownStatus === 'RUNNING';
  const webId = (await agent.waitForTask(webArn, running))!.containers[0]!.dockerId!;
  const cacheId = (await agent.waitForTask(cacheArn, running))!.containers[0]!.dockerId!;

  // The list: what Docker itself says of each container.
  const services = await list();
  expect(services.map((s) => s.id)).toEqual([webId, cacheId].sort());
  const webService = services.find((s) => s.id === webId)!;
  expect(webService).toEqual({
    id: webId,
    adIdentifiers: [`docker://${webId}`, TEST_IMAGE.replace(/:[^:/]+$/, ''), 'busybox'],
    hosts: { bridge: inspect('{{.NetworkSettings.Networks.bridge.IPAddress}}', webId) },
    ports: [8080],
    tags: ['team:web'],
    pid: Number(inspect('{{.State.Pid}}', webId)),
    health: 'UNKNOWN',
    taskArn: webArn,
    family: 'services-it',
    containerName: 'web',
    image: TEST_IMAGE,
  });
  expect(services.find((s) => s.id === cacheId)).toMatchObject({ adIdentifiers: ['redis'], tags: [], ports: [] });

  // The watch starts with every service, then follows Docker.
  const lines = await watch();
  expect(lines).toEqual([...services.map((service) => ({ type: 'added', service })), { type: 'synced' }]);
  lines.length = 0;
  docker('network', 'connect', NETWORK, webId);
  await until(() => lines.length >= 2, 'records after network connect');
  const connected = { ...webService, hosts: { ...webService.hosts, [NETWORK]: inspect(`{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`, webId) } };
  expect(connected.hosts[NETWORK]).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  expect(lines).toEqual([
    { type: 'removed', service: webService },
    { type: 'added', service: connected },
  ]);
  lines.length = 0;
  docker('stop', '-t', '1', cacheId);
  await until(() => lines.length >= 1, 'record after docker stop');
  expect(lines).toEqual([{ type: 'removed', service: services.find((s) => s.id === cacheId) }]);
  await agent.waitForTask(cacheArn, (t) => t?.knownStatus === 'STOPPED');
  expect(await list()).toEqual([connected]);
  expect(lines).toHaveLength(1);

  // A restart with web still running: the same list at once, and a watch with nothing spurious.
  streams.splice(0).forEach((s) => s.close());
  expect(await agent.stop('SIGTERM')).toBe(0);
  expect(inspect('{{.State.Running}}', webId)).toBe('true');
  const mark = agent.log().length;
  await agent.start();
  const after = await watch();
  expect(await list()).toEqual([connected]);
  // The resume re-reads the container from Docker; once that is done and the engine is idle,
  // whatever the re-read changed would have been reported.
  await until(() => agent.log().slice(mark).split('\n').some((l) => l.includes('Inspected container') && l.includes(webId)), 'the resume re-read web');
  await until(async () => {
    const health = await agent.client.get<{ checks: { reconcile: { detail: string } } }>('/v1/health');
    return health.body.checks.reconcile.detail !== 'no pass yet';
  }, 'a reconcile pass after the restart');
  expect(after).toEqual([{ type: 'added', service: connected }, { type: 'synced' }]);
  expect(await list()).toEqual([connected]);
}, 120_000);

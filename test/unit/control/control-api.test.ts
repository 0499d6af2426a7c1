import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../../src/agent.js';
import type { StateChange } from '../../../src/api/events.js';
import type { TaskView } from '../../../src/api/view.js';
import { resolveConfig } from '../../../src/config/config.js';
import { ControlClient } from '../../../src/control/client.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { silentLogger } from '../../../src/log/logger.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { IMAGE } from '../../support/fixtures.js';

let dir: string;
let agent: RunningAgent | undefined;
let docker: FakeDocker;
let saver: MemorySaver;
let client: ControlClient;

const task = (arn = 'arn:test:task/api-1', extra: Record<string, unknown> = {}) => ({
  arn,
  family: 'api',
  version: 3,
  containers: [{ name: 'web', image: IMAGE, command: ['sleep', '300'], portMappings: [{ containerPort: 80 }] }],
  ...extra,
});

async function boot(): Promise<void> {
  const config = resolveConfig({ dataDir: join(dir, 'data') }, { env: {}, uid: 1000, home: dir });
  agent = await startAgent({ config, docker, saver, log: silentLogger(), defaultMetrics: false });
  client = new ControlClient(config.socketPath, 5_000);
}

async function untilRunning(arn: string): Promise<TaskView> {
  for (let i = 0; i < 200; i++) {
    const res = await client.get<TaskView>(`/v1/tasks?taskarn=${encodeURIComponent(arn)}`);
    if (res.body.knownStatus === 'RUNNING') return res.body;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${arn} never reached RUNNING`);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-api-'));
  docker = new FakeDocker({ images: [IMAGE] });
  saver = new MemorySaver();
});
afterEach(async () => {
  await agent?.close();
  agent = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('control socket', () => {
  it('is mode 0600 in a 0700 directory', async () => {
    await boot();
    expect(statSync(client.socketPath).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'data')).mode & 0o777).toBe(0o700);
  });

  it('replaces a stale socket left by a crash', async () => {
    const path = join(dir, 'data', 'agent.sock');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'data'), { recursive: true });
    const stale = createServer();
    await new Promise<void>((r) => stale.listen(path, r));
    // Simulate a crash: the file stays, nobody answers.
    (stale as unknown as { _handle: { close(): void } })._handle.close();
    await boot();
    expect((await client.get('/v1/health')).status).toBe(200);
  });

  it('refuses to start when the socket path is not a socket, and leaves the file alone', async () => {
    const { mkdirSync, readFileSync } = await import('node:fs');
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'data', 'agent.sock'), 'precious');
    await expect(boot()).rejects.toThrow(/exists and is not a socket/);
    expect(readFileSync(join(dir, 'data', 'agent.sock'), 'utf8')).toBe('precious');
  });
});

describe('POST /v1/tasks', () => {
  beforeEach(boot);

  it('creates a task (201), then answers 200 for the same body and changes nothing', async () => {
    const first = await client.post<TaskView>('/v1/tasks', task());
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ arn: 'arn:test:task/api-1', family: 'api', version: '3', desiredStatus: 'RUNNING' });
    await untilRunning('arn:test:task/api-1');
    const second = await client.post<TaskView>('/v1/tasks', task());
    expect(second.status).toBe(200);
    expect(docker.containerCount()).toBe(1);
  });

  it('stops a task with a body of just arn and desiredStatus', async () => {
    await client.post('/v1/tasks', task());
    await untilRunning('arn:test:task/api-1');
    const res = await client.post<TaskView>('/v1/tasks', { arn: 'arn:test:task/api-1', desiredStatus: 'STOPPED' });
    expect(res.status).toBe(200);
    expect(res.body.desiredStatus).toBe('STOPPED');
  });

  it.each([
    ['a bad arn', task('bad arn with spaces'), 'arn'],
    ['a bad image reference', task(undefined, { containers: [{ name: 'web', image: 'UPPER/Case::x' }] }), 'containers[0].image'],
    ['a port out of range', task(undefined, { containers: [{ name: 'web', image: IMAGE, portMappings: [{ containerPort: 70000 }] }] }), 'containers[0].portMappings[0].containerPort'],
    ['a bad environment key', task(undefined, { containers: [{ name: 'web', image: IMAGE, environment: { '1BAD': 'x' } }] }), 'containers[0].environment.1BAD'],
    ['an unknown field', task(undefined, { colour: 'blue' }), ''],
    ['a reserved label', task(undefined, { containers: [{ name: 'web', image: IMAGE, labels: { 'berth.agent-id': 'x' } }] }), 'containers[0].labels.berth.agent-id'],
    ['a status change for an unknown arn', { arn: 'arn:nope', desiredStatus: 'STOPPED' }, null],
    ['a __proto__ key (which copying would silently drop)', JSON.parse('{"arn":"arn:p","family":"f","version":1,"containers":[{"name":"web","image":"busybox","environment":{"__proto__":{"x":1}}}]}'), 'containers[0].environment.__proto__'],
  ])('rejects %s, naming the field, and saves nothing', async (_what, body, path) => {
    const res = await client.post<{ error: { code: string; message: string; issues?: Array<{ path: string }> } }>('/v1/tasks', body);
    expect(res.status).toBe(path === null ? 404 : 400);
    if (path !== null) expect(res.body.error.issues?.map((i) => i.path)).toContain(path);
    expect(await saver.loadTasks()).toEqual([]);
  });

  it('answers malformed JSON 400, a wrong content type 415, a huge body 413, a wrong method 405, an unknown path 404', async () => {
    const raw = (init: { method: string; path: string; type?: string; body?: string }) =>
      new Promise<number>((resolve, reject) => {
        import('node:http').then(({ request }) => {
          const req = request({ socketPath: client.socketPath, method: init.method, path: init.path, headers: init.type ? { 'content-type': init.type } : {} }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end(init.body);
        }, reject);
      });
    expect(await raw({ method: 'POST', path: '/v1/tasks', type: 'application/json', body: '{"arn":' })).toBe(400);
    expect(await raw({ method: 'POST', path: '/v1/tasks', type: 'text/plain', body: '{}' })).toBe(415);
    expect(await raw({ method: 'POST', path: '/v1/tasks', type: 'application/json', body: 'x'.repeat(1024 * 1024 + 10) })).toBe(413);
    expect(await raw({ method: 'DELETE', path: '/v1/tasks' })).toBe(405);
    expect(await raw({ method: 'GET', path: '/v2/nothing' })).toBe(404);
    expect((await client.get('/v1/health')).status).toBe(200);
    expect(await saver.loadTasks()).toEqual([]);
  });
});

describe('GET /v1/tasks', () => {
  beforeEach(boot);

  it('lists all, finds by arn and by full or 12-character docker id; arn with dockerid is 400', async () => {
    await client.post('/v1/tasks', task('arn:a'));
    await client.post('/v1/tasks', task('arn:b'));
    const b = await untilRunning('arn:b');
    const all = await client.get<{ tasks: TaskView[] }>('/v1/tasks');
    expect(all.body.tasks.map((t) => t.arn).sort()).toEqual(['arn:a', 'arn:b']);
    const id = b.containers[0]!.dockerId!;
    expect((await client.get<TaskView>(`/v1/tasks?dockerid=${id}`)).body.arn).toBe('arn:b');
    expect((await client.get<TaskView>(`/v1/tasks?dockerid=${id.slice(0, 12)}`)).body.arn).toBe('arn:b');
    expect(b.containers[0]).toMatchObject({ name: 'web', image: IMAGE, knownStatus: 'RUNNING', portBindings: [{ containerPort: 80, hostIp: '127.0.0.1' }] });
    expect((await client.get(`/v1/tasks?taskarn=arn:a&dockerid=${id}`)).status).toBe(400);
    expect((await client.get('/v1/tasks?taskarn=arn:zzz')).status).toBe(404);
    expect((await client.get('/v1/tasks?dockerid=abcdefabcdef')).status).toBe(404);
  });
});

describe('GET /v1/events', () => {
  beforeEach(boot);

  it('returns events after the cursor, oldest first, and long-polls for new ones', async () => {
    const empty = await client.get<{ events: StateChange[]; last: number }>('/v1/events?after=0');
    expect(empty.body).toEqual({ events: [], last: 0 });
    const waiting = client.get<{ events: StateChange[]; last: number }>('/v1/events?after=0&wait=5');
    await client.post('/v1/tasks', task());
    const got = await waiting;
    expect(got.body.events.length).toBeGreaterThan(0);
    expect(got.body.events[0]).toMatchObject({ seq: 1, taskArn: 'arn:test:task/api-1' });
    await untilRunning('arn:test:task/api-1');
    const rest = await client.get<{ events: StateChange[]; last: number }>(`/v1/events?after=${got.body.last}`);
    const seqs = [...got.body.events, ...rest.body.events].map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(rest.body.events.at(-1)).toMatchObject({ type: 'task', status: 'RUNNING' });
  });

  it('rejects bad cursors, repeated and unknown parameters', async () => {
    expect((await client.get('/v1/events?after=1&after=x')).status).toBe(400);
    expect((await client.get('/v1/health?verbose=1')).status).toBe(400);
    expect((await client.get('/v1/events?after=-1')).status).toBe(400);
    expect((await client.get('/v1/events?wait=9999')).status).toBe(400);
    expect((await client.get('/v1/events?bogus=1')).status).toBe(400);
  });
});

describe('GET /v1/metadata and /v1/health', () => {
  beforeEach(boot);

  it('reports agent version, id, Docker version and data dir', async () => {
    const res = await client.get<Record<string, unknown>>('/v1/metadata');
    expect(res.body).toMatchObject({ agentVersion: '0.1.0', agentId: agent!.agentId, dataDir: join(dir, 'data') });
    expect(typeof res.body.dockerVersion).toBe('string');
  });

  it('is 503 while Docker is unreachable, 200 again once it answers', async () => {
    docker.setUnavailable(true);
    const down = await client.get<{ healthy: boolean; checks: Record<string, { ok: boolean }> }>('/v1/health');
    expect(down.status).toBe(503);
    expect(down.body.checks.docker!.ok).toBe(false);
    docker.setUnavailable(false);
    expect((await client.get('/v1/health')).status).toBe(200);
  });
});

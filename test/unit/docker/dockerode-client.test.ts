import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEvent, PullProgress } from '../../../src/docker/docker-client.js';
import { DockerodeClient, dockerOptionsFromEnv } from '../../../src/docker/dockerode-client.js';
import {
  ConfigError,
  ContainerNotFoundError,
  DockerApiError,
  DockerTimeoutError,
  DockerUnavailableError,
  ImageNotFoundError,
  ImagePullError,
  NameConflictError,
  PortConflictError,
} from '../../../src/errors.js';

/**
 * A stand-in Docker daemon on a Unix socket: answers the adapter must translate but a healthy
 * real engine rarely gives (error lines in a pull, 500s, streams cut mid-line).
 */
type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

const socketPath = join(tmpdir(), `berth-stub-docker-${randomBytes(4).toString('hex')}.sock`);
let server: Server;
let handler: Handler = (_req, res) => json(res, 500, { message: 'no handler' });

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

beforeAll(async () => {
  server = createServer((req, res) => handler(req, res, new URL(req.url ?? '/', 'http://docker')));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function client(): DockerodeClient {
  return new DockerodeClient({ socketPath, timeoutMs: 2_000, pullTimeoutMs: 2_000 });
}

const EVENT = (id: string, action: string, timeNano: string, extra = ''): string =>
  `{"Type":"container","Action":"${action}","Actor":{"ID":"${id}","Attributes":{"app":"web"${extra}}},"time":1,"timeNano":${timeNano}}\n`;

describe('DockerodeClient against a stub daemon', () => {
  it('fails a pull whose progress stream carries an error, after reporting the lines before it', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"status":"Pulling from berth/app","id":"latest"}\n{"status":"Downloading","progressDetail":{"current":5,');
      res.end('"total":10},"id":"abc"}\n{"errorDetail":{"message":"unauthorized: denied"},"error":"unauthorized: denied"}\n');
    };
    const progress: PullProgress[] = [];
    const err = await client()
      .pullImage('registry.test/berth/app:1', { onProgress: (p) => progress.push(p) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullError);
    expect((err as Error).message).toContain('unauthorized: denied');
    expect(progress).toEqual([
      { id: 'latest', status: 'Pulling from berth/app' },
      { id: 'abc', status: 'Downloading', current: 5, total: 10 },
    ]);
  });

  it('turns a registry refusal answered as an HTTP error into ImagePullError', async () => {
    handler = (_req, res) => json(res, 404, { message: 'manifest unknown' });
    const err = await client().pullImage('registry.test/none:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullError);
    expect((err as Error).message).toContain('manifest unknown');
    expect((err as Error).cause).toMatchObject({ statusCode: 404 });
  });

  it('sends the create body Docker expects and maps 409 and 404-image', async () => {
    let body: Record<string, unknown> = {};
    let query = '';
    handler = (req, res, url) => {
      query = url.search;
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        body = JSON.parse(text) as Record<string, unknown>;
        if (url.searchParams.get('name') === 'taken') json(res, 409, { message: 'Conflict. The container name "/taken" is already in use' });
        else if (url.searchParams.get('name') === 'noimage') json(res, 404, { message: 'No such image: app:1' });
        else json(res, 201, { Id: 'f'.repeat(64), Warnings: [] });
      });
    };
    const spec = {
      name: 'web',
      image: 'app:1',
      command: ['serve', '--port', '8080'],
      entryPoint: ['/bin/run'],
      env: { A: '1', B: 'x=y' },
      labels: { app: 'web' },
      portMappings: [
        { containerPort: 8080, protocol: 'tcp' as const, hostIp: '127.0.0.1' },
        { containerPort: 53, hostPort: 5353, protocol: 'udp' as const, hostIp: '0.0.0.0' },
      ],
      stopTimeout: 7,
    };
    await expect(client().createContainer(spec)).resolves.toBe('f'.repeat(64));
    expect(new URLSearchParams(query).get('name')).toBe('web');
    expect(body).toMatchObject({
      Image: 'app:1',
      Cmd: ['serve', '--port', '8080'],
      Entrypoint: ['/bin/run'],
      Env: ['A=1', 'B=x=y'],
      Labels: { app: 'web' },
      StopTimeout: 7,
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
      HostConfig: {
        PortBindings: {
          '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
          '53/udp': [{ HostIp: '0.0.0.0', HostPort: '5353' }],
        },
      },
    });
    await expect(client().createContainer({ ...spec, name: 'taken' })).rejects.toBeInstanceOf(NameConflictError);
    await expect(client().createContainer({ ...spec, name: 'noimage' })).rejects.toBeInstanceOf(ImageNotFoundError);
  });

  it('treats 304 on start and stop as done, 404 as ContainerNotFoundError, 500 as a retryable DockerApiError', async () => {
    handler = (_req, res, url) => {
      if (/\/containers\/gone(\/|$)/.test(url.pathname)) return json(res, 404, { message: 'No such container: gone' });
      if (url.pathname.includes('/broken/')) return json(res, 500, { message: 'driver failed' });
      res.writeHead(304);
      res.end();
    };
    await expect(client().startContainer('same')).resolves.toBeUndefined();
    await expect(client().stopContainer('same', 1)).resolves.toBeUndefined();
    await expect(client().removeContainer('gone')).rejects.toBeInstanceOf(ContainerNotFoundError);
    const err = await client().inspectContainer('broken').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerApiError);
    expect(err).toMatchObject({ statusCode: 500, retryable: true });
    expect((err as Error).message).toContain('driver failed');
  });

  it('gives a stop the grace period it asked for on top of the generic deadline', async () => {
    // Docker answers a stop only once the container is gone, up to `t` seconds after SIGTERM.
    let asked: string | null = null;
    handler = (_req, res, url) => {
      asked = url.searchParams.get('t');
      setTimeout(() => {
        res.writeHead(204);
        res.end();
      }, 300);
    };
    const shortDeadline = new DockerodeClient({ socketPath, timeoutMs: 200, pullTimeoutMs: 2_000 });
    await expect(shortDeadline.stopContainer('slow', 1)).resolves.toBeUndefined();
    expect(asked).toBe('1');
  });

  it('still times out a stop that outlasts its grace period plus the generic deadline', async () => {
    handler = () => {};
    const shortDeadline = new DockerodeClient({ socketPath, timeoutMs: 200, pullTimeoutMs: 2_000 });
    const err = await shortDeadline.stopContainer('hung', 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerTimeoutError);
    expect(err).toMatchObject({ operation: 'stop', timeoutMs: 200 });
  });

  it('turns a host port Docker cannot bind into a PortConflictError naming the port, from start and create', async () => {
    const endpoint = 'driver failed programming external connectivity on endpoint web (4725f505)';
    const answers: Record<string, string> = {
      allocated: `${endpoint}: Bind for 127.0.0.1:18080 failed: port is already allocated`,
      inuse: `${endpoint}: Error starting userland proxy: listen tcp4 127.0.0.1:18183: bind: address already in use`,
      udp: `${endpoint}: Error starting userland proxy: listen udp 0.0.0.0:5353: bind: address already in use`,
    };
    handler = (_req, res, url) => {
      const ref = url.searchParams.get('name') ?? url.pathname.split('/').at(-2) ?? '';
      json(res, 500, { message: answers[ref] ?? 'unexpected' });
    };
    const cases: Array<[string, string]> = [
      ['allocated', '127.0.0.1:18080'],
      ['inuse', '127.0.0.1:18183/tcp'],
      ['udp', '0.0.0.0:5353/udp'],
    ];
    for (const [ref, port] of cases) {
      const err = await client().startContainer(ref).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortConflictError);
      expect(err).toMatchObject({ operation: 'start', port, retryable: false });
      expect((err as Error).message).toContain(answers[ref]);
      expect((err as Error).cause).toMatchObject({ statusCode: 500 });
    }
    const spec = { name: 'allocated', image: 'app:1', env: {}, labels: {}, portMappings: [], stopTimeout: 1 };
    const created = await client().createContainer(spec).catch((e: unknown) => e);
    expect(created).toBeInstanceOf(PortConflictError);
    expect(created).toMatchObject({ operation: 'create', port: '127.0.0.1:18080' });
  });

  it('maps inspect: zero times absent, exit code only once stopped, host ports as numbers', async () => {
    const base = {
      Id: 'a'.repeat(64),
      Name: '/web',
      Created: '2024-05-01T10:00:00.123456789Z',
      Config: { Image: 'app:1', Labels: { app: 'web' } },
    };
    handler = (_req, res, url) =>
      url.pathname.includes('/running/')
        ? json(res, 200, {
            ...base,
            State: { Status: 'running', ExitCode: 0, OOMKilled: false, StartedAt: '2024-05-01T10:00:01Z', FinishedAt: '0001-01-01T00:00:00Z' },
            NetworkSettings: { Ports: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '49153' }], '9000/tcp': null } },
          })
        : json(res, 200, {
            ...base,
            State: { Status: 'exited', ExitCode: 137, OOMKilled: true, StartedAt: '2024-05-01T10:00:01Z', FinishedAt: '2024-05-01T10:00:02Z' },
            NetworkSettings: { Ports: {} },
          });
    expect(await client().inspectContainer('running')).toEqual({
      id: 'a'.repeat(64),
      name: 'web',
      image: 'app:1',
      state: 'running',
      oomKilled: false,
      labels: { app: 'web' },
      portBindings: [{ containerPort: 8080, hostPort: 49153, protocol: 'tcp', hostIp: '127.0.0.1' }],
      createdAt: Date.parse('2024-05-01T10:00:00.123Z'),
      startedAt: Date.parse('2024-05-01T10:00:01Z'),
    });
    expect(await client().inspectContainer('exited')).toMatchObject({
      state: 'exited',
      exitCode: 137,
      oomKilled: true,
      portBindings: [],
      finishedAt: Date.parse('2024-05-01T10:00:02Z'),
    });
  });

  it('streams events split across chunks, asks for the right filters and since, and ends cleanly on abort', async () => {
    let query: URLSearchParams | undefined;
    handler = (_req, res, url) => {
      query = url.searchParams;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const text = EVENT('c1', 'start', '1700000000000000001') + EVENT('c1', 'die', '1700000000000000002', ',"exitCode":"3"');
      res.write(text.slice(0, 30));
      setTimeout(() => res.write(text.slice(30, 150)), 10);
      setTimeout(() => res.write(text.slice(150)), 20);
      // The connection stays open, as Docker's does, until the client goes away.
    };
    const controller = new AbortController();
    const seen: DockerEvent[] = [];
    for await (const e of client().containerEvents({ labels: { app: 'web' }, sinceNano: '1700000000000000000', signal: controller.signal })) {
      seen.push(e);
      if (seen.length === 2) controller.abort();
    }
    expect(seen.map((e) => [e.dockerId, e.action, e.exitCode, e.timeNano])).toEqual([
      ['c1', 'start', undefined, '1700000000000000001'],
      ['c1', 'die', 3, '1700000000000000002'],
    ]);
    expect(JSON.parse(query!.get('filters')!)).toEqual({ type: ['container'], label: ['app=web'] });
    expect(query!.get('since')).toBe('1700000000.000000001');
  });

  it('ends the event iterator cleanly when aborted while waiting for the next event', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(EVENT('c1', 'start', '5'));
    };
    const controller = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of client().containerEvents({ labels: {}, signal: controller.signal })) {
        seen.push(e.action);
        setTimeout(() => controller.abort(), 20);
      }
    })();
    await expect(done).resolves.toBeUndefined();
    expect(seen).toEqual(['start']);
  });

  it('throws DockerUnavailableError when the daemon cuts the event stream', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(EVENT('c1', 'start', '5'));
      setTimeout(() => req.socket.destroy(), 20);
    };
    const seen: string[] = [];
    const err = await (async () => {
      for await (const e of client().containerEvents({ labels: {}, signal: new AbortController().signal })) seen.push(e.action);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['start']);
    expect(err).toBeInstanceOf(DockerUnavailableError);
  });
});

describe('DockerodeClient configuration', () => {
  it('takes DOCKER_HOST when set, the default socket otherwise', () => {
    expect(dockerOptionsFromEnv({ DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toEqual({ host: 'tcp://127.0.0.1:2375' });
    expect(dockerOptionsFromEnv({})).toEqual({ socketPath: '/var/run/docker.sock' });
  });

  it('rejects hosts and timeouts it cannot use with ConfigError', () => {
    const timeouts = { timeoutMs: 1_000, pullTimeoutMs: 1_000 };
    expect(() => new DockerodeClient({ host: 'ssh://me@box', ...timeouts })).toThrow(ConfigError);
    expect(() => new DockerodeClient({ host: 'unix://relative.sock', ...timeouts })).toThrow(ConfigError);
    expect(() => new DockerodeClient({ host: 'tcp://h:1', socketPath: '/x', ...timeouts })).toThrow(ConfigError);
    expect(() => new DockerodeClient({ socketPath: '/x', timeoutMs: 0, pullTimeoutMs: 1 })).toThrow(ConfigError);
    expect(() => new DockerodeClient({ host: 'unix:///var/run/docker.sock', ...timeouts })).not.toThrow();
  });
});

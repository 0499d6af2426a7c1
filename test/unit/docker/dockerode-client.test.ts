import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DockerEvent, PullProgress } from '../../../src/docker/docker-client.js';
import { DockerodeClient, dockerOptionsFromEnv } from '../../../src/docker/dockerode-client.js';
import {
  ConfigError,
  ContainerNotFoundError,
  ContainerReferenceError,
  DockerApiError,
  DockerTimeoutError,
  DockerUnavailableError,
  ImageNotFoundError,
  ImagePullError,
  NameConflictError,
  PortConflictError,
  PullCancelledError,
  VolumeNotFoundError,
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

  it('sends every optional spec setting under its Docker name, durations in nanoseconds, and leaves absent ones out', async () => {
    const bodies: Array<Record<string, unknown>> = [];
    handler = (req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(text) as Record<string, unknown>);
        json(res, 201, { Id: 'f'.repeat(64), Warnings: [] });
      });
    };
    const base = { name: 'rich', image: 'app:1', env: {}, labels: {}, portMappings: [], stopTimeout: 5 };
    await client().createContainer({
      ...base,
      healthCheck: { test: ['CMD', 'check'], intervalMs: 1_500, timeoutMs: 250, retries: 4, startPeriodMs: 10_000 },
      hostname: 'h',
      user: '1000:1000',
      workingDir: '/w',
      tty: true,
      openStdin: true,
      networkDisabled: false,
      networkMode: 'container:db',
      pidMode: 'host',
      ipcMode: 'shareable',
      links: ['db:database'],
      mounts: [
        { type: 'bind', source: '/srv/data', target: '/data', readOnly: true },
        { type: 'volume', source: 'cache', target: '/cache', readOnly: false },
      ],
      volumesFrom: [
        { container: 'a', readOnly: true },
        { container: 'b', readOnly: false },
      ],
      dns: ['10.0.0.2'],
      dnsSearch: ['example.test'],
      extraHosts: ['db:10.0.0.3'],
      cpuShares: 2,
      memoryBytes: 6 * 1024 * 1024,
      memoryReservationBytes: 1024,
      memorySwapBytes: -1,
      memorySwappiness: 0,
      ulimits: [{ name: 'nofile', soft: 10, hard: 20 }],
      readonlyRootfs: true,
      privileged: true,
      securityOpt: ['no-new-privileges'],
      sysctls: { 'net.core.somaxconn': '511' },
      init: true,
      shmSizeBytes: 4096,
      tmpfs: { '/run': 'size=64m,rw' },
      capAdd: ['SYS_PTRACE'],
      capDrop: ['ALL'],
      devices: [{ hostPath: '/dev/fuse', containerPath: '/dev/fuse', permissions: 'rw' }],
      logConfig: { type: 'json-file', config: { 'max-size': '10m' } },
    });
    expect(bodies[0]).toMatchObject({
      Hostname: 'h',
      User: '1000:1000',
      WorkingDir: '/w',
      Tty: true,
      OpenStdin: true,
      NetworkDisabled: false,
      StopTimeout: 5,
      Healthcheck: { Test: ['CMD', 'check'], Interval: 1_500_000_000, Timeout: 250_000_000, Retries: 4, StartPeriod: 10_000_000_000 },
      HostConfig: {
        NetworkMode: 'container:db',
        PidMode: 'host',
        IpcMode: 'shareable',
        Links: ['db:database'],
        Binds: ['/srv/data:/data:ro', 'cache:/cache'],
        VolumesFrom: ['a:ro', 'b:rw'],
        Dns: ['10.0.0.2'],
        DnsSearch: ['example.test'],
        ExtraHosts: ['db:10.0.0.3'],
        CpuShares: 2,
        Memory: 6 * 1024 * 1024,
        MemoryReservation: 1024,
        MemorySwap: -1,
        MemorySwappiness: 0,
        Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 20 }],
        ReadonlyRootfs: true,
        Privileged: true,
        SecurityOpt: ['no-new-privileges'],
        Sysctls: { 'net.core.somaxconn': '511' },
        Init: true,
        ShmSize: 4096,
        Tmpfs: { '/run': 'size=64m,rw' },
        CapAdd: ['SYS_PTRACE'],
        CapDrop: ['ALL'],
        Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rw' }],
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m' } },
      },
    });

    await client().createContainer(base);
    const plain = bodies[1]!;
    for (const key of ['Hostname', 'User', 'WorkingDir', 'Tty', 'OpenStdin', 'NetworkDisabled', 'Healthcheck']) {
      expect(plain, key).not.toHaveProperty(key);
    }
    expect(Object.keys(plain.HostConfig as object)).toEqual(['PortBindings']);
  });

  it('tells a reference to another container apart from the container itself being gone', async () => {
    const answers: Record<string, [number, string]> = {
      gone: [404, 'No such container: gone'],
      joins: [404, 'No such container: db'],
      linked: [500, 'Cannot link to a non running container: /db AS /web/db'],
      network: [409, 'cannot join network of a non running container: 22a9f8c4'],
      pid: [500, 'container 22a9f8c4 is not running'],
      ipc: [500, "can't join IPC of container 22a9f8c4: container 22a9f8c4 is not running"],
      private: [500, "can't join IPC of container 22a9f8c4: non-shareable IPC (hint: use IpcMode:shareable for the donor container)"],
      volumes: [400, 'No such container: data'],
      links: [400, 'could not get container for db: No such container: db'],
    };
    handler = (_req, res, url) => {
      const [status, message] = answers[url.searchParams.get('name') ?? url.pathname.split('/').at(-2)!]!;
      json(res, status, { message });
    };
    await expect(client().startContainer('gone')).rejects.toBeInstanceOf(ContainerNotFoundError);
    for (const ref of ['joins', 'linked', 'network', 'pid', 'ipc']) {
      const err = await client().startContainer(ref).catch((e: unknown) => e);
      expect(err, ref).toBeInstanceOf(ContainerReferenceError);
      expect(err).toMatchObject({ operation: 'start', retryable: false });
      expect((err as Error).message).toContain(answers[ref]![1]);
    }
    const privateIpc = await client().startContainer('private').catch((e: unknown) => e);
    expect(privateIpc).toBeInstanceOf(DockerApiError);
    const spec = { image: 'app:1', env: {}, labels: {}, portMappings: [], stopTimeout: 1 };
    for (const name of ['volumes', 'links']) {
      const err = await client().createContainer({ ...spec, name }).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(ContainerReferenceError);
      expect(err).toMatchObject({ operation: 'create' });
    }
  });

  it('ends a pull at once when its signal aborts, even while the registry is still streaming', async () => {
    let requests = 0;
    let closed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    handler = (req, res) => {
      requests++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"status":"Pulling from berth/app","id":"latest"}\n');
      req.socket.on('close', closed);
    };
    const controller = new AbortController();
    const progress: string[] = [];
    const pulling = client()
      .pullImage('registry.test/berth/app:1', { signal: controller.signal, onProgress: (p) => progress.push(p.status) })
      .catch((e: unknown) => e);
    await vi.waitFor(() => expect(progress).toEqual(['Pulling from berth/app']));
    controller.abort();
    const err = await pulling;
    expect(err).toBeInstanceOf(PullCancelledError);
    expect(err).toMatchObject({ image: 'registry.test/berth/app:1', retryable: false });
    // The request is abandoned, not left streaming.
    await connectionClosed;

    const before = requests;
    await expect(client().pullImage('registry.test/berth/app:1', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(PullCancelledError);
    expect(requests).toBe(before);
  });

  it('maps volumes: create answers the inspected volume, 404 on inspect is VolumeNotFoundError, on remove done, 409 stays', async () => {
    const seen: string[] = [];
    const volume = { Name: 'data', Driver: 'local', Labels: { app: 'web' }, Mountpoint: '/var/lib/docker/volumes/data/_data', Options: null, Scope: 'local' };
    handler = (req, res, url) => {
      seen.push(`${req.method} ${url.pathname}${url.search}`);
      if (url.pathname.endsWith('/volumes/create')) return json(res, 201, volume);
      if (url.pathname.endsWith('/volumes/data')) return req.method === 'DELETE' ? json(res, 409, { message: 'remove data: volume is in use - [abc]' }) : json(res, 200, volume);
      if (url.pathname.endsWith('/volumes')) return json(res, 200, { Volumes: [volume, { ...volume, Name: 'other', Labels: null }], Warnings: null });
      return json(res, 404, { message: 'get gone: no such volume' });
    };
    const info = { name: 'data', driver: 'local', driverOpts: {}, labels: { app: 'web' }, mountpoint: '/var/lib/docker/volumes/data/_data' };
    expect(await client().createVolume({ name: 'data', labels: { app: 'web' } })).toEqual(info);
    expect(await client().inspectVolume('data')).toEqual(info);
    await expect(client().inspectVolume('gone')).rejects.toBeInstanceOf(VolumeNotFoundError);
    await expect(client().removeVolume('gone')).resolves.toBeUndefined();
    const inUse = await client().removeVolume('data').catch((e: unknown) => e);
    expect(inUse).toBeInstanceOf(DockerApiError);
    expect(inUse).toMatchObject({ statusCode: 409, retryable: false });
    // Docker's label filter is trusted only as far as the labels it answers with.
    expect(await client().listVolumes({ app: 'web' })).toEqual([info]);
    const list = seen.find((line) => line.startsWith('GET /volumes?'))!;
    expect(JSON.parse(new URLSearchParams(list.slice(list.indexOf('?'))).get('filters')!)).toEqual({ label: ['app=web'] });
  });

  it('maps health, pid and networks from inspect, and leaves them out when Docker has none', async () => {
    const base = { Id: 'a'.repeat(64), Name: '/web', Created: '2024-05-01T10:00:00Z', Config: { Image: 'app:1', Labels: {} } };
    handler = (_req, res, url) =>
      url.pathname.includes('/healthy/')
        ? json(res, 200, {
            ...base,
            State: { Status: 'running', Pid: 4242, Health: { Status: 'healthy', FailingStreak: 0, Log: [] } },
            NetworkSettings: { Ports: {}, Networks: { bridge: { IPAddress: '172.17.0.5' }, backend: { IPAddress: '' } } },
          })
        : json(res, 200, { ...base, State: { Status: 'exited', Pid: 0, ExitCode: 0 }, NetworkSettings: { Ports: {}, Networks: {} } });
    expect(await client().inspectContainer('healthy')).toMatchObject({
      health: 'healthy',
      pid: 4242,
      networks: { bridge: { ipAddress: '172.17.0.5' }, backend: {} },
    });
    const plain = await client().inspectContainer('plain');
    expect([plain.health, plain.pid, plain.networks]).toEqual([undefined, undefined, undefined]);
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

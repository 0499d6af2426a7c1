import { describe, expect, it, vi } from 'vitest';
import type { DockerEvent, PullProgress } from '../../../src/docker/docker-client.js';
import { DockerodeClient, dockerOptionsFromEnv } from '../../../src/docker/dockerode-client.js';
import { json, useStubDaemon } from './stub-daemon.js';
import {
  ConfigError,
  ContainerNotFoundError,
  ContainerReferenceError,
  ContainerSettingsError,
  DockerApiError,
  DockerTimeoutError,
  DockerUnavailableError,
  ImagePullError,
  PortConflictError,
  PullCancelledError,
} from '../../../src/errors.js';

const daemon = useStubDaemon();
const client = (): DockerodeClient => daemon.client();

const EVENT = (id: string, action: string, timeNano: string, extra = ''): string =>
  `{"Type":"container","Action":"${action}","Actor":{"ID":"${id}","Attributes":{"app":"web"${extra}}},"time":1,"timeNano":${timeNano}}\n`;

describe('DockerodeClient against a stub daemon', () => {
  it('fails a pull whose progress stream carries an error, after reporting the lines before it', async () => {
    daemon.handler = (_req, res) => {
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
    daemon.handler = (_req, res) => json(res, 404, { message: 'manifest unknown' });
    const err = await client().pullImage('registry.test/none:1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullError);
    expect((err as Error).message).toContain('manifest unknown');
    expect((err as Error).cause).toMatchObject({ statusCode: 404 });
  });

  it('treats 304 on start and stop as done, 404 as ContainerNotFoundError, 500 as a retryable DockerApiError', async () => {
    daemon.handler = (_req, res, url) => {
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
    daemon.handler = (_req, res, url) => {
      asked = url.searchParams.get('t');
      setTimeout(() => {
        res.writeHead(204);
        res.end();
      }, 300);
    };
    const shortDeadline = daemon.client({ timeoutMs: 200 });
    await expect(shortDeadline.stopContainer('slow', 1)).resolves.toBeUndefined();
    expect(asked).toBe('1');
  });

  it('still times out a stop that outlasts its grace period plus the generic deadline', async () => {
    daemon.handler = () => {};
    const shortDeadline = daemon.client({ timeoutMs: 200 });
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
    daemon.handler = (_req, res, url) => {
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
    daemon.handler = (_req, res, url) => {
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

  it("turns a start's 500 about the container's own settings into ContainerSettingsError; other 500s stay retryable", async () => {
    const answers: Record<string, string> = {
      user: 'unable to find user nobody: no matching entries in passwd file',
      logging: "failed to initialize logging driver: invalid size: 'banana'",
      daemon: 'containerd: connection refused',
    };
    daemon.handler = (_req, res, url) => json(res, 500, { message: answers[url.pathname.split('/').at(-2)!] });
    for (const ref of ['user', 'logging']) {
      const err = await client().startContainer(ref).catch((e: unknown) => e);
      expect(err, ref).toBeInstanceOf(ContainerSettingsError);
      expect(err).toMatchObject({ operation: 'start', retryable: false });
      expect((err as Error).message).toContain(answers[ref]);
    }
    const err = await client().startContainer('daemon').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerApiError);
    expect(err).toMatchObject({ statusCode: 500, retryable: true });
  });

  it('ends a pull at once when its signal aborts, even while the registry is still streaming', async () => {
    let requests = 0;
    let closed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    daemon.handler = (req, res) => {
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

  it('streams events split across chunks, asks for the right filters and since, and ends cleanly on abort', async () => {
    let query: URLSearchParams | undefined;
    daemon.handler = (_req, res, url) => {
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
    daemon.handler = (_req, res) => {
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
    daemon.handler = (req, res) => {
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

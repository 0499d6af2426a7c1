import { describe, expect, it } from 'vitest';
import type { ContainerSpec, DockerEvent } from '../../../src/docker/docker-client.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import {
  ContainerNotFoundError,
  DockerApiError,
  DockerUnavailableError,
  ImagePullError,
  PortConflictError,
  PullCancelledError,
} from '../../../src/errors.js';
import { describeDockerClientContract } from '../../contract/docker-client.contract.js';

const IMAGE = 'registry.test/berth/busybox:latest';
const DISPOSABLE = 'registry.test/berth/variant:10';

describeDockerClientContract('FakeDocker', async () => {
  const fake = new FakeDocker({ images: [IMAGE, DISPOSABLE] });
  return {
    client: fake,
    image: IMAGE,
    disposableImage: DISPOSABLE,
    missingImage: 'registry.test/berth/does-not-exist:latest',
    labels: { 'berth.test-run': 'fake' },
    serves: false,
    setHealth: (id, health) => fake.setHealth(id, health),
    network: {
      name: 'contract-net',
      connect: async (id) => fake.connectNetwork(id, 'contract-net', '10.20.0.2'),
      disconnect: async (id) => fake.disconnectNetwork(id, 'contract-net'),
    },
    holdPull: async () => {
      let release!: () => void;
      fake.delayNext('pull', new Promise<void>((resolve) => (release = resolve)));
      // The fake takes the hold as the call begins, before its first await.
      return { image: IMAGE, held: Promise.resolve(), release: async () => release() };
    },
    cleanup: async () => {},
  };
});

const HEALTHY_CHECK = { test: ['CMD-SHELL', 'true'], intervalMs: 1_000, timeoutMs: 1_000, retries: 3, startPeriodMs: 0 };

let names = 0;
function spec(overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name: `c${++names}`,
    image: IMAGE,
    command: ['sleep', '300'],
    env: {},
    labels: { app: 'web' },
    portMappings: [],
    stopTimeout: 1,
    ...overrides,
  };
}

async function fakeWithImage(): Promise<FakeDocker> {
  const docker = new FakeDocker({ images: [IMAGE] });
  await docker.pullImage(IMAGE);
  return docker;
}

async function running(docker: FakeDocker, overrides: Partial<ContainerSpec> = {}): Promise<string> {
  const id = await docker.createContainer(spec(overrides));
  await docker.startContainer(id);
  return id;
}

/** An open event stream whose events the test pulls one at a time. */
function openEvents(docker: FakeDocker, options: { labels?: Record<string, string>; sinceNano?: string } = {}) {
  const controller = new AbortController();
  const iterator = docker
    .containerEvents({ labels: options.labels ?? {}, sinceNano: options.sinceNano, signal: controller.signal })
    [Symbol.asyncIterator]();
  return {
    next: async (): Promise<DockerEvent> => {
      const result = await iterator.next();
      if (result.done) throw new Error('event stream ended');
      return result.value;
    },
    nextResult: () => iterator.next(),
    close: () => controller.abort(),
  };
}

describe('FakeDocker test controls', () => {
  it('crash: the container exits with the given code, releases its ports and emits die', async () => {
    const docker = await fakeWithImage();
    const id = await running(docker, { portMappings: [{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' }] });
    const events = openEvents(docker);
    const pending = events.next();
    docker.crash(id, 42);
    expect(await pending).toMatchObject({ dockerId: id, action: 'die', exitCode: 42, labels: { app: 'web' } });
    expect(await docker.inspectContainer(id)).toMatchObject({ state: 'exited', exitCode: 42, oomKilled: false, portBindings: [] });
    events.close();
  });

  it('crash with oomKilled emits oom before die and marks the container', async () => {
    const docker = await fakeWithImage();
    const id = await running(docker);
    docker.crash(id, 137, { oomKilled: true });
    expect(docker.events.slice(-2).map((e) => [e.action, e.exitCode])).toEqual([
      ['oom', undefined],
      ['die', 137],
    ]);
    expect(await docker.inspectContainer(id)).toMatchObject({ state: 'exited', exitCode: 137, oomKilled: true });
  });

  it('crash of a container that is not running is a test mistake and throws', async () => {
    const docker = await fakeWithImage();
    const id = await docker.createContainer(spec());
    expect(() => docker.crash(id, 1)).toThrow(/created/);
  });

  it('removeExternally kills a running container (137) and removes it', async () => {
    const docker = await fakeWithImage();
    const id = await running(docker);
    const before = docker.events.length;
    docker.removeExternally(id);
    expect(docker.events.slice(before).map((e) => [e.action, e.exitCode])).toEqual([
      ['kill', undefined],
      ['die', 137],
      ['destroy', undefined],
    ]);
    expect(docker.containerCount()).toBe(0);
    await expect(docker.inspectContainer(id)).rejects.toBeInstanceOf(ContainerNotFoundError);
  });

  it('stop is graceful: kill, die with 0, stop', async () => {
    const docker = await fakeWithImage();
    const id = await running(docker);
    const before = docker.events.length;
    await docker.stopContainer(id, 10);
    expect(docker.events.slice(before).map((e) => [e.action, e.exitCode])).toEqual([
      ['kill', undefined],
      ['die', 0],
      ['stop', undefined],
    ]);
    expect((await docker.inspectContainer(id)).exitCode).toBe(0);
  });

  it('failNext: only the next call of that operation fails, and both calls are logged', async () => {
    const docker = await fakeWithImage();
    const boom = new DockerApiError('create', 500, 'boom');
    docker.failNext('create', boom);
    await expect(docker.createContainer(spec({ name: 'first' }))).rejects.toBe(boom);
    await expect(docker.createContainer(spec({ name: 'second' }))).resolves.toMatch(/^[0-9a-f]{64}$/);
    expect(docker.calls.filter((c) => c.op === 'create')).toEqual([
      { op: 'create', arg: 'first' },
      { op: 'create', arg: 'second' },
    ]);
    expect(docker.containerCount()).toBe(1);
  });

  it('delayNext holds the call until the gate opens', async () => {
    const docker = await fakeWithImage();
    const id = await docker.createContainer(spec());
    let open!: () => void;
    docker.delayNext('start', new Promise<void>((resolve) => (open = resolve)));
    const starting = docker.startContainer(id);
    await Promise.resolve();
    expect((await docker.inspectContainer(id)).state).toBe('created');
    open();
    await starting;
    expect((await docker.inspectContainer(id)).state).toBe('running');
  });

  it('setUnavailable: every call and every open stream fails with DockerUnavailableError until it is back', async () => {
    const docker = await fakeWithImage();
    const id = await running(docker);
    const events = openEvents(docker);
    const pending = events.nextResult();
    docker.setUnavailable(true);
    await expect(pending).rejects.toBeInstanceOf(DockerUnavailableError);
    await expect(docker.ping()).rejects.toBeInstanceOf(DockerUnavailableError);
    await expect(docker.inspectContainer(id)).rejects.toBeInstanceOf(DockerUnavailableError);
    await expect(docker.listContainers({})).rejects.toBeInstanceOf(DockerUnavailableError);
    await expect(openEvents(docker).nextResult()).rejects.toBeInstanceOf(DockerUnavailableError);
    docker.setUnavailable(false);
    expect((await docker.inspectContainer(id)).state).toBe('running');
  });

  it('breakEventStreams: open iterators throw, and reopening from the last event replays what was missed', async () => {
    const docker = await fakeWithImage();
    const id = await running(docker);
    const events = openEvents(docker);
    const pending = events.nextResult();
    docker.breakEventStreams();
    await expect(pending).rejects.toBeInstanceOf(DockerUnavailableError);

    const lastSeen = docker.events.at(-1)!.timeNano;
    docker.crash(id, 2);
    const reopened = openEvents(docker, { sinceNano: lastSeen });
    expect(await reopened.next()).toMatchObject({ dockerId: id, action: 'die', exitCode: 2 });
    reopened.close();
  });

  it('a stream without sinceNano delivers only later events, filtered by labels', async () => {
    const docker = await fakeWithImage();
    await running(docker);
    const events = openEvents(docker, { labels: { app: 'db' } });
    const pending = events.next();
    await running(docker, { labels: { app: 'web' } });
    const db = await running(docker, { labels: { app: 'db', tier: 'x' } });
    expect(await pending).toMatchObject({ dockerId: db, action: 'create' });
    expect(await events.next()).toMatchObject({ dockerId: db, action: 'start' });
    events.close();
  });

  it('connectNetwork / disconnectNetwork change what inspect shows and emit network events naming the container', async () => {
    const docker = await fakeWithImage();
    const id = await running(docker);
    const abort = new AbortController();
    const stream = docker.networkEvents({ signal: abort.signal })[Symbol.asyncIterator]();
    docker.connectNetwork(id, 'backend', '10.5.0.2');
    const bridge = (await docker.inspectContainer(id)).networks!.bridge!;
    expect((await docker.inspectContainer(id)).networks).toEqual({ bridge, backend: { ipAddress: '10.5.0.2' } });
    docker.disconnectNetwork(id, 'bridge');
    expect((await docker.inspectContainer(id)).networks).toEqual({ backend: { ipAddress: '10.5.0.2' } });
    expect(() => docker.disconnectNetwork(id, 'bridge')).toThrow(/not connected to network bridge/);
    expect((await stream.next()).value).toMatchObject({ dockerId: id, action: 'connect', network: 'backend' });
    const second = (await stream.next()).value;
    expect(second).toMatchObject({ dockerId: id, action: 'disconnect', network: 'bridge' });
    // A stopped container keeps its networks without addresses, as Docker shows it.
    docker.crash(id, 0);
    expect((await docker.inspectContainer(id)).networks).toEqual({ backend: {} });
    // A reopened stream replays what came after the last event seen, and container streams never see network events.
    const replay = docker.networkEvents({ signal: abort.signal, sinceNano: '0' })[Symbol.asyncIterator]();
    expect((await replay.next()).value).toMatchObject({ action: 'connect' });
    expect(docker.events.some((e) => e.action === 'connect' || e.action === 'disconnect')).toBe(false);
    abort.abort();
    expect((await stream.next()).done).toBe(true);
  });

  it('assigns distinct dynamic host ports, refuses a taken fixed port, and frees ports on exit', async () => {
    const docker = await fakeWithImage();
    const dynamic = { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' } as const;
    const a = await running(docker, { portMappings: [dynamic] });
    const b = await running(docker, { portMappings: [dynamic] });
    const portOf = async (id: string) => (await docker.inspectContainer(id)).portBindings[0]!.hostPort;
    expect([await portOf(a), await portOf(b)]).toEqual([32768, 32769]);

    const fixed = await docker.createContainer(spec({ portMappings: [{ ...dynamic, hostPort: 32768 }] }));
    const err = await docker.startContainer(fixed).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortConflictError);
    expect(err).toMatchObject({ operation: 'start', port: '127.0.0.1:32768', retryable: false });
    expect((await docker.inspectContainer(fixed)).state).toBe('created');

    await docker.stopContainer(a, 1);
    await docker.startContainer(fixed);
    expect(await portOf(fixed)).toBe(32768);
  });

  it('specOf: the spec a container was created from, exactly as given, for engine tests to assert on', async () => {
    const docker = await fakeWithImage();
    const given = spec({ user: '1000', tmpfs: { '/run': 'size=1m' }, healthCheck: HEALTHY_CHECK, mounts: [] });
    const id = await docker.createContainer(given);
    expect(docker.specOf(id)).toEqual(given);
    expect(docker.specOf(given.name)).toBe(docker.specOf(id));
    expect(() => docker.specOf('nobody')).toThrow(ContainerNotFoundError);
  });

  it('setHealth: only a change to healthy or unhealthy is an event; starting is not; each start begins at starting', async () => {
    const docker = await fakeWithImage();
    const id = await running(docker, { healthCheck: HEALTHY_CHECK });
    const health = () => docker.events.filter((e) => e.action === 'health_status').map((e) => e.health);
    docker.setHealth(id, 'healthy');
    docker.setHealth(id, 'healthy');
    docker.setHealth(id, 'starting');
    docker.setHealth(id, 'unhealthy');
    expect(health()).toEqual(['healthy', 'unhealthy']);
    await docker.stopContainer(id, 1);
    await docker.startContainer(id);
    expect((await docker.inspectContainer(id)).health).toBe('starting');
  });

  it('setHealth on a container that is not running or has no healthcheck (or a NONE one) is a test mistake and throws', async () => {
    const docker = await fakeWithImage();
    const created = await docker.createContainer(spec({ healthCheck: HEALTHY_CHECK }));
    expect(() => docker.setHealth(created, 'healthy')).toThrow(/created/);
    const plain = await running(docker);
    expect(() => docker.setHealth(plain, 'healthy')).toThrow(/without a healthcheck/);
    const disabled = await running(docker, { healthCheck: { ...HEALTHY_CHECK, test: ['NONE'] } });
    expect((await docker.inspectContainer(disabled)).health).toBeUndefined();
  });

  it('a volume mount creates its missing volume; the volume is in use until the container is removed', async () => {
    const docker = await fakeWithImage();
    const id = await docker.createContainer(spec({ mounts: [{ type: 'volume', source: 'cache', target: '/c', readOnly: false }] }));
    expect(docker.hasVolume('cache')).toBe(true);
    await expect(docker.removeVolume('cache')).rejects.toMatchObject({ statusCode: 409 });
    await docker.removeContainer(id);
    await docker.removeVolume('cache');
    expect(docker.hasVolume('cache')).toBe(false);
  });

  it('a held pull that is aborted never makes the image local, even once its gate opens', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    let open!: () => void;
    docker.delayNext('pull', new Promise<void>((resolve) => (open = resolve)));
    const controller = new AbortController();
    const pulling = docker.pullImage(IMAGE, { signal: controller.signal });
    controller.abort();
    await expect(pulling).rejects.toBeInstanceOf(PullCancelledError);
    open();
    await new Promise((resolve) => setImmediate(resolve));
    expect(docker.hasImage(IMAGE)).toBe(false);
  });

  it('publishes nothing in host or none network mode, and a static port on another address does not conflict', async () => {
    const docker = await fakeWithImage();
    const port = { containerPort: 80, hostPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1' } as const;
    const host = await running(docker, { networkMode: 'host', portMappings: [port] });
    expect((await docker.inspectContainer(host)).portBindings).toEqual([]);
    await running(docker, { portMappings: [port] });
    const elsewhere = await running(docker, { portMappings: [{ ...port, hostIp: '127.0.0.2' }] });
    expect((await docker.inspectContainer(elsewhere)).portBindings.map((b) => b.hostPort)).toEqual([8080]);
    const anywhere = await docker.createContainer(spec({ portMappings: [{ ...port, hostIp: '0.0.0.0' }] }));
    await expect(docker.startContainer(anywhere)).rejects.toMatchObject({ port: '0.0.0.0:8080' });
  });

  it('pull makes an image local; a short reference means :latest; unknown images fail', async () => {
    const docker = new FakeDocker({ images: ['busybox'] });
    expect(docker.hasImage('busybox:latest')).toBe(false);
    await docker.pullImage('busybox:latest');
    expect(docker.hasImage('busybox')).toBe(true);
    await expect(docker.pullImage('busybox:1.36')).rejects.toBeInstanceOf(ImagePullError);
    expect(docker.calls.map((c) => c.op)).toEqual(['pull', 'pull']);
  });

  it('refuses an invalid container name with a 400', async () => {
    const docker = await fakeWithImage();
    const err = await docker.createContainer(spec({ name: 'bad name!' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerApiError);
    expect((err as DockerApiError).statusCode).toBe(400);
  });
});

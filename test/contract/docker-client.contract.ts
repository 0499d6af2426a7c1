import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ContainerSpec,
  DockerClient,
  DockerEvent,
  DockerHealth,
  HealthCheckSpec,
  PullProgress,
} from '../../src/docker/docker-client.js';
import {
  ContainerNotFoundError,
  ContainerReferenceError,
  DockerApiError,
  ImageNotFoundError,
  ImagePullError,
  NameConflictError,
  PortConflictError,
  PullCancelledError,
  VolumeNotFoundError,
} from '../../src/errors.js';

export interface DockerClientContractSetup {
  readonly client: DockerClient;
  /** An image the registry holds. The suite pulls it before creating containers. */
  readonly image: string;
  /** An image reference no registry holds. */
  readonly missingImage: string;
  /** Put on every container the suite creates, so `cleanup` can find them. */
  readonly labels: Record<string, string>;
  /** True when containers really run: a published port is then fetched over 127.0.0.1. */
  readonly serves: boolean;
  /**
   * Gives a probe's verdict where nothing probes (the fake); absent where Docker runs the
   * healthcheck itself, which the suite then waits for.
   */
  readonly setHealth?: (id: string, health: DockerHealth) => void;
  /** A pull of `image` that stays in flight (`held` resolves once it is) until `release`. */
  holdPull(): Promise<{ image: string; held: Promise<void>; release(): Promise<void> }>;
  /** Removes every container, then every volume, that carries `labels`. */
  cleanup(): Promise<void>;
}

const CASE_LABEL = 'contract.case';
/** Passes at once; on real Docker, probed every second. */
const PASSING: HealthCheckSpec = { test: ['CMD-SHELL', 'true'], intervalMs: 1_000, timeoutMs: 1_000, retries: 3, startPeriodMs: 0 };
const FAILING: HealthCheckSpec = { ...PASSING, test: ['CMD-SHELL', 'exit 1'], retries: 1 };
const SERVER_SCRIPT =
  'mkdir -p /tmp/www && cp /www/index.html /tmp/www/ && echo "$GREETING" > /tmp/www/env.txt && ' +
  'exec httpd -f -p 8080 -h /tmp/www';

/**
 * What every DockerClient must do, run against the fake (unit) and against dockerode on a real
 * engine (integration), so that the fake the engine's unit tests rely on behaves like Docker.
 */
export function describeDockerClientContract(name: string, setup: () => Promise<DockerClientContractSetup>): void {
  describe(`DockerClient contract: ${name}`, () => {
    let env: DockerClientContractSetup;
    let client: DockerClient;
    const run = randomBytes(4).toString('hex');
    let count = 0;

    beforeAll(async () => {
      env = await setup();
      client = env.client;
      await client.pullImage(env.image);
    });

    afterAll(async () => {
      await env?.cleanup();
    });

    /** A spec with a fresh name and a label unique to this one test, so event and list filters isolate it. */
    function spec(overrides: Partial<ContainerSpec> = {}): ContainerSpec {
      return {
        name: `berth-contract-${run}-${++count}`,
        image: env.image,
        command: ['sleep', '300'],
        env: {},
        labels: { ...env.labels, [CASE_LABEL]: randomUUID() },
        portMappings: [],
        stopTimeout: 1,
        ...overrides,
      };
    }

    /** Waits for Docker's verdict, or gives the fake's: then the health_status event that reports it. */
    async function healthEvent(id: string, labels: Record<string, string>, createdAt: number, health: DockerHealth): Promise<DockerEvent[]> {
      env.setHealth?.(id, health);
      return collectEvents(client, labels, nanoBefore(createdAt), (e) => e.action === 'health_status');
    }

    it('reports a passing healthcheck: starting, then healthy on inspect and in a health_status event', async () => {
      const s = spec({ healthCheck: PASSING });
      const id = await client.createContainer(s);
      const created = await client.inspectContainer(id);
      expect(created.health).toBeUndefined();
      await client.startContainer(id);
      expect(['starting', 'healthy']).toContain((await client.inspectContainer(id)).health);

      const events = await healthEvent(id, s.labels, created.createdAt!, 'healthy');
      expect(events.at(-1)).toMatchObject({ dockerId: id, action: 'health_status', health: 'healthy', labels: s.labels });
      // Every probe is an exec; none of those reaches the stream.
      expect(events.map((e) => e.action)).toEqual(['create', 'start', 'health_status']);
      expect((await client.inspectContainer(id)).health).toBe('healthy');

      // Measured on Docker 20.10: a stopped container reads unhealthy, with no event for it.
      await client.stopContainer(id, 1);
      expect((await client.inspectContainer(id)).health).toBe('unhealthy');
    });

    it('reports a failing healthcheck as unhealthy, and a container without one has no health', async () => {
      const s = spec({ healthCheck: FAILING });
      const id = await client.createContainer(s);
      const { createdAt } = await client.inspectContainer(id);
      await client.startContainer(id);
      const events = await healthEvent(id, s.labels, createdAt!, 'unhealthy');
      expect(events.at(-1)).toMatchObject({ dockerId: id, action: 'health_status', health: 'unhealthy' });
      expect((await client.inspectContainer(id)).health).toBe('unhealthy');

      const plain = await client.createContainer(spec());
      await client.startContainer(plain);
      const info = await client.inspectContainer(plain);
      expect(info.health).toBeUndefined();
      expect(info.pid).toEqual(expect.any(Number));
      expect(info.networks?.bridge?.ipAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    });

    it('refuses a static host port another container holds with PortConflictError naming it, and leaves the first running', async () => {
      const port = await freePort();
      const mapping = { containerPort: 8080, hostPort: port, protocol: 'tcp' as const, hostIp: '127.0.0.1' };
      const first = await client.createContainer(spec({ portMappings: [mapping] }));
      await client.startContainer(first);
      const second = await client.createContainer(spec({ portMappings: [mapping] }));

      const err = await client.startContainer(second).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortConflictError);
      expect(err).toMatchObject({ operation: 'start', port: `127.0.0.1:${port}`, retryable: false });
      expect((await client.inspectContainer(second)).state).toBe('created');
      const held = await client.inspectContainer(first);
      expect([held.state, held.portBindings.map((b) => b.hostPort)]).toEqual(['running', [port]]);

      // Once the port is free again, the same start succeeds.
      await client.stopContainer(first, 1);
      await client.startContainer(second);
      expect((await client.inspectContainer(second)).portBindings.map((b) => b.hostPort)).toEqual([port]);
    });

    it('refuses references to containers that do not exist where Docker checks them: at create, or at start for a network mode', async () => {
      const nobody = `berth-contract-${run}-nobody`;
      for (const missing of [
        { volumesFrom: [{ container: nobody, readOnly: false }] },
        { links: [`${nobody}:db`] },
        { pidMode: `container:${nobody}` },
        { ipcMode: `container:${nobody}` },
      ]) {
        const err = await client.createContainer(spec(missing)).catch((e: unknown) => e);
        expect(err, JSON.stringify(missing)).toBeInstanceOf(ContainerReferenceError);
        expect(err).toMatchObject({ operation: 'create', retryable: false });
      }
      const joining = await client.createContainer(spec({ networkMode: `container:${nobody}` }));
      const err = await client.startContainer(joining).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ContainerReferenceError);
      expect(err).toMatchObject({ operation: 'start' });
      expect((await client.inspectContainer(joining)).state).toBe('created');
    });

    it('refuses links and container: modes to a container that is not running at start; volumesFrom does not need it running', async () => {
      const other = spec();
      const otherId = await client.createContainer(other);
      for (const reference of [
        { links: [`${other.name}:db`] },
        { networkMode: `container:${other.name}` },
        { pidMode: `container:${other.name}` },
        { ipcMode: `container:${other.name}` },
      ]) {
        const id = await client.createContainer(spec(reference));
        const err = await client.startContainer(id).catch((e: unknown) => e);
        expect(err, JSON.stringify(reference)).toBeInstanceOf(ContainerReferenceError);
        expect(err).toMatchObject({ operation: 'start', retryable: false });
      }
      const sharing = await client.createContainer(spec({ volumesFrom: [{ container: other.name, readOnly: true }] }));
      await client.startContainer(sharing);
      expect((await client.inspectContainer(sharing)).state).toBe('running');

      await client.startContainer(otherId);
      const joined = await client.createContainer(
        spec({ links: [`${other.name}:db`], networkMode: 'bridge', pidMode: `container:${otherId}`, ipcMode: 'host' }),
      );
      await client.startContainer(joined);
      const inNetwork = await client.createContainer(spec({ networkMode: `container:${other.name}` }));
      await client.startContainer(inNetwork);
      expect([(await client.inspectContainer(joined)).state, (await client.inspectContainer(inNetwork)).state]).toEqual(['running', 'running']);

      // Docker's default IPC mode is private: joining needs a donor created shareable.
      const ipcJoin = await client.createContainer(spec({ ipcMode: `container:${other.name}` }));
      const private_ = await client.startContainer(ipcJoin).catch((e: unknown) => e);
      expect(private_).toBeInstanceOf(DockerApiError);
      expect((private_ as Error).message).toContain('non-shareable IPC');
      const donor = await client.createContainer(spec({ ipcMode: 'shareable' }));
      await client.startContainer(donor);
      const ipcJoined = await client.createContainer(spec({ ipcMode: `container:${donor}` }));
      await client.startContainer(ipcJoined);
      expect((await client.inspectContainer(ipcJoined)).state).toBe('running');

      const published = spec({
        networkMode: `container:${other.name}`,
        portMappings: [{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' }],
      });
      const err = await client.createContainer(published).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DockerApiError);
      expect(err).toMatchObject({ statusCode: 400, retryable: false });
    });

    it('creates, inspects, lists and removes volumes; a create of an existing name answers it as it is', async () => {
      const name = `berth-contract-${run}-vol`;
      const labels = { ...env.labels, [CASE_LABEL]: randomUUID() };
      const created = await client.createVolume({ name, driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' }, labels });
      expect(created).toEqual({
        name,
        driver: 'local',
        driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' },
        labels,
        mountpoint: expect.stringContaining(name),
      });
      expect(await client.createVolume({ name, labels: { ...labels, other: 'x' } })).toEqual(created);
      expect(await client.inspectVolume(name)).toEqual(created);
      const other = `berth-contract-${run}-vol-other`;
      await client.createVolume({ name: other, labels: env.labels });
      expect((await client.listVolumes(labels)).map((v) => v.name)).toEqual([name]);
      expect((await client.listVolumes(env.labels)).map((v) => v.name)).toEqual(expect.arrayContaining([name, other]));

      await client.removeVolume(name);
      await expect(client.inspectVolume(name)).rejects.toBeInstanceOf(VolumeNotFoundError);
      await expect(client.removeVolume(name)).resolves.toBeUndefined();
      expect(await client.listVolumes(labels)).toEqual([]);
    });

    it('refuses to remove a volume a container uses, running or not, with a 409; a missing one mounted is created', async () => {
      const name = `berth-contract-${run}-vol-used`;
      const id = await client.createContainer(spec({ mounts: [{ type: 'volume', source: name, target: '/data', readOnly: false }] }));
      try {
        expect((await client.inspectVolume(name)).driver).toBe('local');
        const err = await client.removeVolume(name).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DockerApiError);
        expect(err).toMatchObject({ statusCode: 409, retryable: false });
        expect((await client.inspectVolume(name)).name).toBe(name);
      } finally {
        await client.removeContainer(id);
        // Created by the mount, so without the suite's labels: cleanup would not find it.
        await client.removeVolume(name);
      }
      await expect(client.inspectVolume(name)).rejects.toBeInstanceOf(VolumeNotFoundError);
    });

    it('refuses a volume with a driver Docker does not have (Docker looks for it for 15 s), or an invalid name, for good', async () => {
      const unknownDriver = await client
        .createVolume({ name: `berth-contract-${run}-vol-driver`, driver: 'berth-no-such-driver', labels: env.labels })
        .catch((e: unknown) => e);
      expect(unknownDriver).toBeInstanceOf(DockerApiError);
      expect(unknownDriver).toMatchObject({ statusCode: 404, retryable: false });
      const badName = await client.createVolume({ name: 'no/slashes', labels: env.labels }).catch((e: unknown) => e);
      expect(badName).toBeInstanceOf(DockerApiError);
      expect(badName).toMatchObject({ statusCode: 400, retryable: false });
      await expect(client.inspectVolume(`berth-contract-${run}-vol-driver`)).rejects.toBeInstanceOf(VolumeNotFoundError);
    });

    it('cancels a pull: at once when the signal has already aborted, and while the pull is in flight', async () => {
      await expect(client.pullImage(env.image, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(PullCancelledError);

      const hold = await env.holdPull();
      try {
        const controller = new AbortController();
        const pulling = client.pullImage(hold.image, { signal: controller.signal }).catch((e: unknown) => e);
        await hold.held;
        const aborted = Date.now();
        controller.abort();
        const err = await pulling;
        expect(err).toBeInstanceOf(PullCancelledError);
        expect(err).toMatchObject({ image: hold.image, retryable: false });
        expect(Date.now() - aborted).toBeLessThan(2_000);
      } finally {
        await hold.release();
      }
    });

    it('runs a container with every setting of a rich spec, and it becomes healthy', async () => {
      const s = spec(richSpec());
      const id = await client.createContainer(s);
      const { createdAt } = await client.inspectContainer(id);
      await client.startContainer(id);
      const events = await healthEvent(id, s.labels, createdAt!, 'healthy');
      expect(events.at(-1)).toMatchObject({ action: 'health_status', health: 'healthy' });
      expect((await client.inspectContainer(id)).state).toBe('running');
    });

    it('answers ping and reports its version', async () => {
      await expect(client.ping()).resolves.toBeUndefined();
      const version = await client.version();
      expect(version.version).toMatch(/\S/);
      expect(version.apiVersion).toMatch(/^\d+\.\d+/);
    });

    it('pulls an image the registry holds, reporting progress', async () => {
      const progress: PullProgress[] = [];
      await client.pullImage(env.image, { onProgress: (p) => progress.push(p) });
      expect(progress.length).toBeGreaterThan(0);
      for (const p of progress) expect(typeof p.status).toBe('string');
    });

    it('rejects a pull of an image no registry holds with ImagePullError', async () => {
      await expect(client.pullImage(env.missingImage)).rejects.toBeInstanceOf(ImagePullError);
    });

    it('creates a container that inspect finds by ID, unique ID prefix and name', async () => {
      const s = spec({ env: { GREETING: 'hi' } });
      const id = await client.createContainer(s);
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      for (const ref of [id, id.slice(0, 12), s.name]) {
        const info = await client.inspectContainer(ref);
        expect(info).toMatchObject({ id, name: s.name, image: env.image, state: 'created', oomKilled: false });
        expect(info.labels).toMatchObject(s.labels);
        expect(info.portBindings).toEqual([]);
        expect(info.exitCode).toBeUndefined();
        expect(info.createdAt).toEqual(expect.any(Number));
        expect(info.startedAt).toBeUndefined();
        expect(info.finishedAt).toBeUndefined();
      }
    });

    it('refuses a second container with a taken name with NameConflictError', async () => {
      const s = spec();
      await client.createContainer(s);
      await expect(client.createContainer({ ...s, labels: spec().labels })).rejects.toBeInstanceOf(NameConflictError);
    });

    it('refuses to create from an image that is not present with ImageNotFoundError', async () => {
      await expect(client.createContainer(spec({ image: env.missingImage }))).rejects.toBeInstanceOf(ImageNotFoundError);
    });

    it('starts a container, publishing a dynamic port on 127.0.0.1, and a second start resolves', async () => {
      const s = spec({
        entryPoint: ['/bin/sh', '-c'],
        command: [SERVER_SCRIPT],
        env: { GREETING: 'hello from berth' },
        portMappings: [{ containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1' }],
      });
      const id = await client.createContainer(s);
      await client.startContainer(id);

      const info = await client.inspectContainer(id);
      expect(info.state).toBe('running');
      expect(info.startedAt).toEqual(expect.any(Number));
      expect(info.portBindings).toHaveLength(1);
      const binding = info.portBindings[0]!;
      expect(binding).toMatchObject({ containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1' });
      expect(Number.isInteger(binding.hostPort) && binding.hostPort > 0).toBe(true);

      if (env.serves) {
        // Only ever 127.0.0.1: the binding above was asserted to be there.
        expect(await fetchText(`http://127.0.0.1:${binding.hostPort}/`)).toContain('berth test page');
        expect(await fetchText(`http://127.0.0.1:${binding.hostPort}/env.txt`)).toContain('hello from berth');
      }

      await expect(client.startContainer(id)).resolves.toBeUndefined();
      expect((await client.inspectContainer(id)).state).toBe('running');
    });

    it('stops a running container, which then has an exit code and no ports; a second stop resolves', async () => {
      const id = await client.createContainer(
        spec({ portMappings: [{ containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1' }] }),
      );
      await client.startContainer(id);
      await client.stopContainer(id, 1);

      const info = await client.inspectContainer(id);
      expect(info.state).toBe('exited');
      expect(info.exitCode).toEqual(expect.any(Number));
      expect(info.finishedAt).toEqual(expect.any(Number));
      expect(info.finishedAt!).toBeGreaterThanOrEqual(info.startedAt!);
      expect(info.portBindings).toEqual([]);

      await expect(client.stopContainer(id, 1)).resolves.toBeUndefined();
      expect((await client.inspectContainer(id)).state).toBe('exited');
    });

    it('answers ContainerNotFoundError for an unknown ID or name', async () => {
      for (const ref of [randomBytes(32).toString('hex'), `berth-contract-${run}-nobody`]) {
        await expect(client.inspectContainer(ref)).rejects.toBeInstanceOf(ContainerNotFoundError);
        await expect(client.startContainer(ref)).rejects.toBeInstanceOf(ContainerNotFoundError);
        await expect(client.stopContainer(ref, 1)).rejects.toBeInstanceOf(ContainerNotFoundError);
        await expect(client.removeContainer(ref)).rejects.toBeInstanceOf(ContainerNotFoundError);
      }
    });

    it('removes a container: it is gone by ID and name, and its name is free again', async () => {
      const s = spec();
      const id = await client.createContainer(s);
      await client.removeContainer(id);
      await expect(client.inspectContainer(id)).rejects.toBeInstanceOf(ContainerNotFoundError);
      await expect(client.inspectContainer(s.name)).rejects.toBeInstanceOf(ContainerNotFoundError);
      await expect(client.removeContainer(id)).rejects.toBeInstanceOf(ContainerNotFoundError);
      expect(await client.listContainers({ [CASE_LABEL]: s.labels[CASE_LABEL]! })).toEqual([]);
      const again = await client.createContainer(s);
      expect(again).not.toBe(id);
    });

    it('refuses to remove a running container with a 409 DockerApiError and leaves it running', async () => {
      const id = await client.createContainer(spec());
      await client.startContainer(id);
      const err = await client.removeContainer(id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DockerApiError);
      expect((err as DockerApiError).statusCode).toBe(409);
      expect((await client.inspectContainer(id)).state).toBe('running');
    });

    it('lists only the containers that carry every requested label', async () => {
      const labelled = spec();
      const caseOnly = { [CASE_LABEL]: labelled.labels[CASE_LABEL]! };
      const withLabels = await client.createContainer(labelled);
      // Without the setup labels, so the suite's cleanup cannot see it: removed below.
      const other = spec({ labels: caseOnly });
      const without = await client.createContainer(other);
      try {
        const listed = await client.listContainers(labelled.labels);
        expect(listed).toEqual([
          { id: withLabels, name: labelled.name, state: 'created', labels: expect.objectContaining(labelled.labels) },
        ]);
        const both = await client.listContainers(caseOnly);
        expect(both.map((c) => c.id).sort()).toEqual([withLabels, without].sort());
      } finally {
        await client.removeContainer(without);
      }
    });

    it('delivers die with the exit code, only for containers with the requested labels', async () => {
      const unrelated = spec({ command: ['sh', '-c', 'exit 4'] });
      await client.startContainer(await client.createContainer(unrelated));
      const s = spec({ command: ['sh', '-c', 'exit 3'] });
      const id = await client.createContainer(s);
      const { createdAt } = await client.inspectContainer(id);
      await client.startContainer(id);

      const events = await collectEvents(client, s.labels, nanoBefore(createdAt!), (e) => e.action === 'die');
      expect(events.map((e) => e.dockerId)).toEqual(events.map(() => id));
      expect(events.map((e) => e.action)).toEqual(['create', 'start', 'die']);
      const die = events[2]!;
      expect(die.exitCode).toBe(3);
      expect(die.labels).toMatchObject(s.labels);
      expectAscending(events);

      const info = await eventually(() => client.inspectContainer(id), (i) => i.state === 'exited');
      expect(info.exitCode).toBe(3);
    });

    it('replays the events after sinceNano when a stream is reopened', async () => {
      const s = spec({ command: ['sh', '-c', 'exit 3'] });
      const id = await client.createContainer(s);
      const { createdAt } = await client.inspectContainer(id);
      await client.startContainer(id);
      const first = await collectEvents(client, s.labels, nanoBefore(createdAt!), (e) => e.action === 'die');
      const create = first.find((e) => e.action === 'create');
      expect(create).toBeDefined();

      const replayed = await collectEvents(client, s.labels, create!.timeNano, (e) => e.action === 'die');
      expect(replayed.map((e) => e.action)).toEqual(['start', 'die']);
      expect(replayed).toEqual(first.slice(1));
      for (const e of replayed) expect(BigInt(e.timeNano)).toBeGreaterThan(BigInt(create!.timeNano));
    });

    it('calls onOpen once the stream is connected, before any event and even if none comes', async () => {
      const controller = new AbortController();
      let opened = 0;
      const seen: DockerEvent[] = [];
      const iterate = (async () => {
        const stream = client.containerEvents({ labels: spec().labels, signal: controller.signal, onOpen: () => (opened += 1) });
        for await (const e of stream) seen.push(e);
      })();
      const deadline = Date.now() + 10_000;
      while (opened === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      await iterate;
      expect([opened, seen]).toEqual([1, []]);
    });

    it('ends the event iterator without an error when the signal aborts', async () => {
      const controller = new AbortController();
      const seen: DockerEvent[] = [];
      const iterate = (async () => {
        for await (const e of client.containerEvents({ labels: spec().labels, signal: controller.signal })) seen.push(e);
      })();
      setTimeout(() => controller.abort(), 100);
      await expect(iterate).resolves.toBeUndefined();
      expect(seen).toEqual([]);

      const already = client.containerEvents({ labels: env.labels, signal: AbortSignal.abort() });
      await expect(already[Symbol.asyncIterator]().next()).resolves.toMatchObject({ done: true });
    });
  });
}

/**
 * Every optional ContainerSpec setting that a plain container can take on a stock Docker host,
 * with values Docker keeps as given (the integration test reads each back through docker inspect).
 */
export function richSpec(): Partial<ContainerSpec> {
  return {
    healthCheck: PASSING,
    hostname: 'rich-box',
    // The test image's passwd knows only root: nobody by number.
    user: '65534:65534',
    workingDir: '/tmp',
    tty: true,
    openStdin: true,
    networkMode: 'bridge',
    dns: ['127.0.0.1'],
    dnsSearch: ['berth.test'],
    extraHosts: ['db.berth.test:127.0.0.1'],
    cpuShares: 512,
    memoryBytes: 64 * 1024 * 1024,
    memoryReservationBytes: 32 * 1024 * 1024,
    memorySwapBytes: 128 * 1024 * 1024,
    memorySwappiness: 10,
    ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }],
    readonlyRootfs: true,
    securityOpt: ['no-new-privileges'],
    sysctls: { 'net.core.somaxconn': '1024' },
    init: true,
    shmSizeBytes: 32 * 1024 * 1024,
    tmpfs: { '/scratch': 'rw,size=16m' },
    capAdd: ['NET_ADMIN'],
    capDrop: ['MKNOD'],
    devices: [{ hostPath: '/dev/null', containerPath: '/dev/berth-null', permissions: 'rwm' }],
    logConfig: { type: 'json-file', config: { 'max-size': '1m', 'max-file': '2' } },
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A nanosecond timestamp one second before `ms`, as `sinceNano`: implementations stamp events and containers with one clock. */
function nanoBefore(ms: number): string {
  return String(BigInt(ms - 1000) * 1_000_000n);
}

/** Events until `until` matches (included), or until the time limit, so a missing event fails the test instead of hanging it. */
async function collectEvents(
  client: DockerClient,
  labels: Record<string, string>,
  sinceNano: string,
  until: (e: DockerEvent) => boolean,
  limitMs = 20_000,
): Promise<DockerEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limitMs);
  const events: DockerEvent[] = [];
  try {
    for await (const e of client.containerEvents({ labels, sinceNano, signal: controller.signal })) {
      events.push(e);
      if (until(e)) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

function expectAscending(events: readonly DockerEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    expect(BigInt(events[i]!.timeNano)).toBeGreaterThanOrEqual(BigInt(events[i - 1]!.timeNano));
  }
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, limitMs = 10_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The server inside the container needs a moment to bind after start. */
async function fetchText(url: string, limitMs = 15_000): Promise<string> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return await res.text();
      if (Date.now() > deadline) throw new Error(`GET ${url}: HTTP ${res.status}`);
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

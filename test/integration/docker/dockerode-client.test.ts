import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerodeClient } from '../../../src/docker/dockerode-client.js';
import {
  ContainerNotFoundError,
  DockerTimeoutError,
  DockerUnavailableError,
} from '../../../src/errors.js';
import { describeDockerClientContract } from '../../contract/docker-client.contract.js';

const IMAGE = process.env.BERTH_TEST_IMAGE ?? '127.0.0.1:5000/berth/busybox:latest';
const RUN_ID = randomBytes(6).toString('hex');
const LABELS = { 'berth.test-run': RUN_ID };
const DOCKER = '/usr/bin/docker';
const NETWORK = `berth-contract-${RUN_ID}`;

function realClient(overrides: Partial<ConstructorParameters<typeof DockerodeClient>[0]> = {}): DockerodeClient {
  return new DockerodeClient({ socketPath: '/var/run/docker.sock', timeoutMs: 30_000, pullTimeoutMs: 120_000, ...overrides });
}

/** Everything this run created, running or not: containers first, then the volumes they used. */
async function removeLabelled(client: DockerodeClient): Promise<void> {
  for (const c of await client.listContainers(LABELS)) {
    try {
      await client.stopContainer(c.id, 0);
      await client.removeContainer(c.id);
    } catch (err) {
      if (!(err instanceof ContainerNotFoundError)) throw err;
    }
  }
  for (const v of await client.listVolumes(LABELS)) await client.removeVolume(v.name);
  execFileSync(DOCKER, ['network', 'prune', '-f', '--filter', `label=berth.test-run=${RUN_ID}`], { stdio: 'pipe' });
}

describeDockerClientContract('DockerodeClient on the real engine', async () => {
  const client = realClient();
  return {
    client,
    image: IMAGE,
    // Pushed by scripts/setup-docker.sh for this suite alone.
    disposableImage: '127.0.0.1:5000/berth/variant:10',
    missingImage: '127.0.0.1:5000/berth/does-not-exist:latest',
    labels: LABELS,
    serves: true,
    network: {
      name: NETWORK,
      connect: async (id) => {
        // Made on first use, labelled with the run, removed with the run's containers.
        if (execFileSync(DOCKER, ['network', 'ls', '-q', '--filter', `name=^${NETWORK}$`], { encoding: 'utf8' }).trim() === '') {
          execFileSync(DOCKER, ['network', 'create', '--label', `berth.test-run=${RUN_ID}`, NETWORK], { stdio: 'pipe' });
        }
        execFileSync(DOCKER, ['network', 'connect', NETWORK, id], { stdio: 'pipe' });
      },
      disconnect: async (id) => void execFileSync(DOCKER, ['network', 'disconnect', NETWORK, id], { stdio: 'pipe' }),
    },
    holdPull: async () => {
      // A registry that accepts the daemon's connection and never answers (127.0.0.0/8 is an
      // insecure registry to Docker by default, so no certificate is needed to get that far).
      const registry = await silentServer();
      return { image: `${registry.url.replace('tcp://', '')}/berth/held:latest`, held: registry.connected, release: registry.close };
    },
    cleanup: () => removeLabelled(client),
  };
});

/** A TCP server on 127.0.0.1 that accepts connections and never answers: a hung daemon or registry. */
async function silentServer(): Promise<{ url: string; connected: Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let onConnection!: () => void;
  const connected = new Promise<void>((resolve) => (onConnection = resolve));
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onConnection();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `tcp://127.0.0.1:${port}`,
    connected,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('DockerodeClient failure modes', () => {
  const client = realClient();

  afterAll(async () => {
    await removeLabelled(client);
  });

  it('reports a missing socket as DockerUnavailableError', async () => {
    const down = realClient({ socketPath: `/tmp/berth-no-docker-${RUN_ID}.sock` });
    const err = await down.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerUnavailableError);
    expect((err as Error).cause).toMatchObject({ code: 'ENOENT' });
    await expect(down.inspectContainer('anything')).rejects.toBeInstanceOf(DockerUnavailableError);
  });

  it('reports a refused TCP connection as DockerUnavailableError, for calls and event streams', async () => {
    const down = new DockerodeClient({ host: `tcp://127.0.0.1:${await closedPort()}`, timeoutMs: 5_000, pullTimeoutMs: 5_000 });
    await expect(down.version()).rejects.toBeInstanceOf(DockerUnavailableError);
    const events = down.containerEvents({ labels: LABELS, signal: new AbortController().signal });
    await expect(events[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(DockerUnavailableError);
  });

  it('gives up on a daemon that never answers with DockerTimeoutError, also when opening events', async () => {
    const hung = await silentServer();
    try {
      const slow = new DockerodeClient({ host: hung.url, timeoutMs: 200, pullTimeoutMs: 300 });
      const started = Date.now();
      const err = await slow.ping().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DockerTimeoutError);
      expect(err).toMatchObject({ operation: 'ping', timeoutMs: 200 });
      expect(Date.now() - started).toBeLessThan(5_000);
      await expect(slow.pullImage(IMAGE)).rejects.toBeInstanceOf(DockerTimeoutError);
      const events = slow.containerEvents({ labels: LABELS, signal: new AbortController().signal });
      await expect(events[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(DockerTimeoutError);
    } finally {
      await hung.close();
    }
  });

  it("waits out a stop's grace period though it is longer than the generic deadline", async () => {
    const id = await client.createContainer({
      name: `berth-grace-${RUN_ID}`,
      image: IMAGE,
      // PID 1 ignores SIGTERM, so Docker waits the full stop timeout before SIGKILL.
      command: ['sleep', '300'],
      env: {},
      labels: LABELS,
      portMappings: [],
      stopTimeout: 3,
    });
    await client.startContainer(id);
    const impatient = realClient({ timeoutMs: 1_000 });
    const started = Date.now();
    await impatient.stopContainer(id, 3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
    expect(await client.inspectContainer(id)).toMatchObject({ state: 'exited', exitCode: 137 });
  });

  it('pulls for real: a tag that is not local comes from the registry', async () => {
    // A tag of its own, so removing it locally cannot disturb other runs that use the shared
    // test image. The layers stay (the image ID is shared), the tag must come from the registry.
    const tag = `${IMAGE.slice(0, IMAGE.lastIndexOf(':'))}:pull-test`;
    execFileSync(DOCKER, ['tag', IMAGE, tag], { stdio: 'pipe' });
    execFileSync(DOCKER, ['push', tag], { stdio: 'pipe', timeout: 60_000 });
    execFileSync(DOCKER, ['rmi', '-f', tag], { stdio: 'pipe' });
    expect(imageExists(tag)).toBe(false);

    const statuses: string[] = [];
    await client.pullImage(tag, { onProgress: (p) => statuses.push(p.status) });

    expect(imageExists(tag)).toBe(true);
    expect(statuses.some((s) => s.startsWith('Digest: sha256:'))).toBe(true);
    execFileSync(DOCKER, ['rmi', tag], { stdio: 'pipe' });
  });
});

function imageExists(ref: string): boolean {
  try {
    execFileSync(DOCKER, ['image', 'inspect', ref], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

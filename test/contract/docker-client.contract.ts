import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerSpec, DockerClient, DockerEvent, PullProgress } from '../../src/docker/docker-client.js';
import {
  ContainerNotFoundError,
  DockerApiError,
  ImageNotFoundError,
  ImagePullError,
  NameConflictError,
} from '../../src/errors.js';
import { containerSettingsCases } from './container-settings.contract.js';
import {
  CASE_LABEL,
  collectEvents,
  eventually,
  expectAscending,
  fetchText,
  nanoBefore,
  specFor,
  type ContractContext,
  type DockerClientContractSetup,
} from './docker-contract-support.js';
import { imageCases } from './image.contract.js';
import { volumeAndPullCases } from './volume-pull.contract.js';

export type { DockerClientContractSetup } from './docker-contract-support.js';

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

    function spec(overrides: Partial<ContainerSpec> = {}): ContainerSpec {
      return specFor(env, `berth-contract-${run}-${++count}`, overrides);
    }

    const ctx: ContractContext = {
      get env() {
        return env;
      },
      get client() {
        return client;
      },
      run,
      spec,
    };

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

    it('reports a network connect and disconnect naming the container, and inspect follows', async () => {
      const id = await client.createContainer(spec());
      const { createdAt } = await client.inspectContainer(id);
      await client.startContainer(id);
      const net = env.network.name;
      await env.network.connect(id);
      const connected = await client.inspectContainer(id);
      expect(connected.networks?.[net]?.ipAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(Object.keys(connected.networks ?? {}).sort()).toEqual(['bridge', net].sort());
      await env.network.disconnect(id);
      expect(Object.keys((await client.inspectContainer(id)).networks ?? {})).toEqual(['bridge']);

      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 20_000);
      const seen: string[] = [];
      try {
        for await (const e of client.networkEvents({ sinceNano: nanoBefore(createdAt!), signal: controller.signal })) {
          // Other containers on the host have network events too; Docker's own bridge connect at start is not ours.
          if (e.dockerId !== id || e.network !== net) continue;
          seen.push(e.action);
          if (e.action === 'disconnect') break;
        }
      } finally {
        clearTimeout(timer);
        controller.abort();
      }
      expect(seen).toEqual(['connect', 'disconnect']);
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
      // Aborted once the stream is open, so it is a live stream that ends, not one never opened.
      const iterate = (async () => {
        for await (const e of client.containerEvents({ labels: spec().labels, signal: controller.signal, onOpen: () => controller.abort() })) seen.push(e);
      })();
      await expect(iterate).resolves.toBeUndefined();
      expect(seen).toEqual([]);

      const already = client.containerEvents({ labels: env.labels, signal: AbortSignal.abort() });
      await expect(already[Symbol.asyncIterator]().next()).resolves.toMatchObject({ done: true });
    });

    containerSettingsCases(ctx);
    volumeAndPullCases(ctx);
    imageCases(ctx);
  });
}

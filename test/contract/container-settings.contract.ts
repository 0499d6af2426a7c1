import { beforeAll, expect, it } from 'vitest';
import type { DockerClient } from '../../src/docker/docker-client.js';
import { ContainerReferenceError, DockerApiError, PortConflictError } from '../../src/errors.js';
import {
  FAILING,
  PASSING,
  freePort,
  healthEvents,
  richSpec,
  type ContractContext,
} from './docker-contract-support.js';

/** Health, host ports, references to other containers and a rich spec: what the engine builds ECS's container settings on. */
export function containerSettingsCases(ctx: ContractContext): void {
  let client: DockerClient;
  const { run, spec } = ctx;

  beforeAll(() => {
    client = ctx.client;
  });

  it('reports a passing healthcheck: starting, then healthy on inspect and in a health_status event', async () => {
    const s = spec({ healthCheck: PASSING });
    const id = await client.createContainer(s);
    const created = await client.inspectContainer(id);
    expect(created.health).toBeUndefined();
    await client.startContainer(id);
    expect(['starting', 'healthy']).toContain((await client.inspectContainer(id)).health);

    const events = await healthEvents(ctx, id, s.labels, created.createdAt!, 'healthy');
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
    const events = await healthEvents(ctx, id, s.labels, createdAt!, 'unhealthy');
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

  it("refuses a log driver Docker does not have at create, for good, with Docker's words", async () => {
    const err = await client
      .createContainer(spec({ logConfig: { type: 'berth-no-such-log-driver', config: {} } }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerApiError);
    expect(err).toMatchObject({ statusCode: 400, retryable: false });
    expect((err as Error).message).toContain('berth-no-such-log-driver');
  });

  it('runs a container with every setting of a rich spec, and it becomes healthy', async () => {
    const s = spec(richSpec());
    const id = await client.createContainer(s);
    const { createdAt } = await client.inspectContainer(id);
    await client.startContainer(id);
    const events = await healthEvents(ctx, id, s.labels, createdAt!, 'healthy');
    expect(events.at(-1)).toMatchObject({ action: 'health_status', health: 'healthy' });
    expect((await client.inspectContainer(id)).state).toBe('running');
  });
}

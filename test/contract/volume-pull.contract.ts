import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import type { DockerClient } from '../../src/docker/docker-client.js';
import { DockerApiError, PullCancelledError, VolumeNotFoundError } from '../../src/errors.js';
import { CASE_LABEL, type ContractContext, type DockerClientContractSetup } from './docker-contract-support.js';

/** Volumes, and pulls that a caller cancels. */
export function volumeAndPullCases(ctx: ContractContext): void {
  let env: DockerClientContractSetup;
  let client: DockerClient;
  const { run, spec } = ctx;

  beforeAll(() => {
    env = ctx.env;
    client = ctx.client;
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
}

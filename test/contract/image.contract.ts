import { beforeAll, expect, it } from 'vitest';
import type { DockerClient } from '../../src/docker/docker-client.js';
import { ImageConflictError, ImageNotFoundError } from '../../src/errors.js';
import type { ContractContext, DockerClientContractSetup } from './docker-contract-support.js';

/** Local images: what a pull leaves, how it reads back, and Docker's refusals to remove one. */
export function imageCases(ctx: ContractContext): void {
  let env: DockerClientContractSetup;
  let client: DockerClient;

  beforeAll(() => {
    env = ctx.env;
    client = ctx.client;
  });

  const repositoryOf = (ref: string): string => ref.slice(0, ref.lastIndexOf(':'));

  it('reads a pulled image back by tag, by ID and by digest, and lists it', async () => {
    const ref = env.disposableImage;
    await client.pullImage(ref);
    const info = await client.inspectImage(ref);
    expect(info.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(info.repoTags).toContain(ref);
    expect(info.repoDigests).toEqual([expect.stringMatching(new RegExp(`^${repositoryOf(ref).replace(/[.]/g, '\\.')}@sha256:[0-9a-f]{64}$`))]);
    expect(info.sizeBytes).toBeGreaterThan(0);
    expect(info.createdAt).toBeGreaterThan(0);
    expect(await client.inspectImage(info.id)).toEqual(info);
    expect(await client.inspectImage(info.repoDigests[0]!)).toEqual(info);
    expect((await client.listImages()).find((i) => i.id === info.id)).toMatchObject({ id: info.id, repoTags: info.repoTags, repoDigests: info.repoDigests });
    await expect(client.inspectImage(env.missingImage)).rejects.toBeInstanceOf(ImageNotFoundError);
  });

  it('names the image a container was made from, and will not remove it while the container exists', async () => {
    const ref = env.disposableImage;
    await client.pullImage(ref);
    const image = await client.inspectImage(ref);
    const id = await client.createContainer(ctx.spec({ image: ref }));
    try {
      expect((await client.inspectContainer(id)).imageId).toBe(image.id);
      const refused = await client.removeImage(ref).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ImageConflictError);
      expect(refused).toMatchObject({ retryable: false });
      expect((await client.inspectImage(ref)).id).toBe(image.id);
    } finally {
      await client.removeContainer(id);
    }
    await client.removeImage(ref);
    await expect(client.inspectImage(ref)).rejects.toBeInstanceOf(ImageNotFoundError);
    await expect(client.inspectImage(image.id)).rejects.toBeInstanceOf(ImageNotFoundError);
    await expect(client.removeImage(ref)).resolves.toBeUndefined();
    expect((await client.listImages()).some((i) => i.id === image.id)).toBe(false);
  });
}

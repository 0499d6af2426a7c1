import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { DockerClient } from '../../src/docker/docker-client.js';
import { ImagePullError } from '../../src/errors.js';

export interface RegistryAuthContractSetup {
  /** An image on a registry that answers 401 unless `username`/`password` come with the pull. */
  readonly image: string;
  /** The registry's host, as the image names it. */
  readonly host: string;
  readonly username: string;
  readonly password: string;
  /** A client on which `image` is not present locally, so a pull that works must really pull it. */
  fresh(): Promise<{ readonly client: DockerClient; isLocal(): Promise<boolean> }>;
}

/**
 * Pulls from a registry that requires credentials, the same on the fake and on the real engine
 * with the htpasswd registry: the right ones pull, none or wrong ones are the registry's 401 as an
 * ImagePullError that says whether credentials were sent, and no error holds the password.
 */
export function describeRegistryAuthContract(name: string, setup: () => Promise<RegistryAuthContractSetup>): void {
  describe(`registry auth contract: ${name}`, () => {
    it('pulls with the right user and password', async () => {
      const env = await setup();
      const { client, isLocal } = await env.fresh();
      await client.pullImage(env.image, { auth: { username: env.username, password: env.password, serverAddress: env.host } });
      expect(await isLocal()).toBe(true);
    });

    it("fails an anonymous pull with the registry's 401", async () => {
      const env = await setup();
      const { client, isLocal } = await env.fresh();
      const err = await client.pullImage(env.image).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImagePullError);
      expect((err as Error).message).toMatch(
        new RegExp(`^pulling ${escape(env.image)} failed: registry ${escape(env.host)} answered 401 Unauthorized to an anonymous pull \\(no credentials for it\\): .*no basic auth credentials`),
      );
      expect(await isLocal()).toBe(false);
    });

    it("fails a pull with a wrong password with the registry's 401, and no error holds the password", async () => {
      const env = await setup();
      const wrong = `${env.password}-but-wrong`;
      const { client, isLocal } = await env.fresh();
      const err = await client.pullImage(env.image, { auth: { username: env.username, password: wrong, serverAddress: env.host } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImagePullError);
      expect((err as Error).message).toMatch(
        new RegExp(`^pulling ${escape(env.image)} failed: registry ${escape(env.host)} answered 401 Unauthorized to the credentials given for it: .*unauthorized`),
      );
      const everything = inspect(err, { depth: 10, showHidden: true });
      expect(everything).not.toContain(wrong);
      expect(everything).not.toContain(Buffer.from(`${env.username}:${wrong}`).toString('base64'));
      expect(await isLocal()).toBe(false);
    });
  });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

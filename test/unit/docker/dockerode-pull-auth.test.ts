import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { RegistryAuth } from '../../../src/docker/docker-client.js';
import { ImagePullError } from '../../../src/errors.js';
import { json, useStubDaemon } from './stub-daemon.js';

const daemon = useStubDaemon();
const IMAGE = '127.0.0.1:5001/berth/private:latest';
const PASSWORD = 'Stub-Secret-9';

/** Answers a pull and keeps what arrived: the query and the decoded X-Registry-Auth header. */
function recordPulls(answer: (res: Parameters<typeof json>[0]) => void = okPull): Array<{ query: Record<string, string>; auth: unknown }> {
  const seen: Array<{ query: Record<string, string>; auth: unknown }> = [];
  daemon.handler = (req, res, url) => {
    const header = req.headers['x-registry-auth'];
    seen.push({
      query: Object.fromEntries(url.searchParams),
      auth: typeof header === 'string' ? JSON.parse(Buffer.from(header, 'base64').toString('utf8')) : undefined,
    });
    answer(res);
  };
  return seen;
}

function okPull(res: Parameters<typeof json>[0]): void {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end('{"status":"Status: Downloaded newer image for 127.0.0.1:5001/berth/private:latest"}\n');
}

describe('DockerodeClient pulls with registry credentials', () => {
  it.each<[string, RegistryAuth, unknown]>([
    [
      'a user and password',
      { username: 'ann', password: PASSWORD, serverAddress: '127.0.0.1:5001' },
      { username: 'ann', password: PASSWORD, serveraddress: '127.0.0.1:5001' },
    ],
    ['an identity token', { identityToken: 'refresh-1', serverAddress: '127.0.0.1:5001' }, { identitytoken: 'refresh-1', serveraddress: '127.0.0.1:5001' }],
  ])("sends %s as Docker's AuthConfig in X-Registry-Auth, and never in the URL", async (_what, auth, wire) => {
    const seen = recordPulls();
    await daemon.client().pullImage(IMAGE, { auth });
    expect(seen).toEqual([{ query: { fromImage: '127.0.0.1:5001/berth/private', tag: 'latest' }, auth: wire }]);
  });

  it('sends no X-Registry-Auth for an anonymous pull', async () => {
    const seen = recordPulls();
    await daemon.client().pullImage(IMAGE);
    expect(seen).toEqual([{ query: { fromImage: '127.0.0.1:5001/berth/private', tag: 'latest' }, auth: undefined }]);
  });

  it.each<[string, string, RegistryAuth | undefined, string]>([
    ['no credentials', 'Head "http://127.0.0.1:5001/v2/berth/private/manifests/latest": no basic auth credentials', undefined, 'to an anonymous pull (no credentials for it)'],
    ['refused credentials', 'unauthorized: authentication required', { username: 'ann', password: PASSWORD, serverAddress: '127.0.0.1:5001' }, 'to the credentials given for it'],
  ])("says the registry's 401 for %s (Docker reports it as a 500), and whether credentials were sent", async (_what, message, auth, how) => {
    recordPulls((res) => json(res, 500, { message }));
    const err = await daemon.client().pullImage(IMAGE, auth ? { auth } : {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImagePullError);
    expect((err as Error).message.startsWith(`pulling ${IMAGE} failed: registry 127.0.0.1:5001 answered 401 Unauthorized ${how}: `)).toBe(true);
    expect((err as Error).message).toContain(message);
    // Not in the error, its cause, or anything they hold.
    expect(inspect(err, { depth: 10, showHidden: true })).not.toContain(PASSWORD);
  });

  it("leaves every other refusal in Docker's words", async () => {
    recordPulls((res) => json(res, 404, { message: 'manifest for 127.0.0.1:5001/berth/private:nope not found: manifest unknown' }));
    const err = await daemon.client().pullImage('127.0.0.1:5001/berth/private:nope').catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^pulling 127\.0\.0\.1:5001\/berth\/private:nope failed: \(HTTP code 404\) .*manifest unknown/);
    expect((err as Error).message).not.toContain('401');
  });
});

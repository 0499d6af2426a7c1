import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execHelper, type HelperRunner } from '../../../../src/docker/registry-auth/credential-helper.js';
import { parseDockerConfig } from '../../../../src/docker/registry-auth/docker-config.js';
import {
  loadDockerConfig,
  openRegistryCredentials,
  registryCredentials,
  type CredentialsFor,
} from '../../../../src/docker/registry-auth/registry-credentials.js';
import { ConfigError, CredentialHelperError } from '../../../../src/errors.js';
import { recordingLogger } from '../../../support/recording-logger.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const PRIVATE = '127.0.0.1:5001/berth/private:latest';
const HELPER_SECRET = 'helper-Secret-77';

let dir: string;
let helperLog: string;
/** Helpers on a PATH of their own: real programs, run the way the agent runs them. */
let realRunner: HelperRunner;

/** A shell script helper in `dir`, run as docker-credential-<name>. */
function helper(name: string, body: string): void {
  const path = join(dir, `docker-credential-${name}`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-helpers-'));
  helperLog = join(dir, 'asked.log');
  realRunner = execHelper({ env: { PATH: `${dir}:/usr/bin:/bin` } });
  // Records each question (`get` and the server read from stdin), then answers as real helpers do.
  helper(
    'berthtest',
    `server=$(cat)
printf '%s %s\\n' "$1" "$server" >> ${helperLog}
case "$server" in
  127.0.0.1:5001) printf '{"ServerURL":"%s","Username":"ann","Secret":"${HELPER_SECRET}"}\\n' "$server" ;;
  token.example) printf '{"ServerURL":"%s","Username":"<token>","Secret":"refresh-token-1"}' "$server" ;;
  empty.example) printf '{"ServerURL":"%s","Username":"","Secret":""}' "$server" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac`,
  );
  helper('broken', 'cat >/dev/null\necho "keychain is locked" >&2\nexit 3');
  helper('slow', 'exec sleep 5');
  helper('chatty', `cat >/dev/null\necho "Username=ann Secret=${HELPER_SECRET}"`);
  helper('leaky', `cat >/dev/null\necho '{"Username":"ann","Secret":"${HELPER_SECRET}"}'\nexit 1`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function resolver(file: unknown, timeoutMs = 5_000): CredentialsFor {
  return registryCredentials(parseDockerConfig(JSON.stringify(file), '/cfg/config.json'), { run: realRunner, timeoutMs });
}

describe('credentials from auths', () => {
  const creds = resolver({
    auths: {
      '127.0.0.1:5001': { auth: b64('ann:pw1') },
      'https://registry.example.com/v2/': { username: 'bob', password: 'pw2' },
      'https://index.docker.io/v1/': { auth: b64('hub:pw3') },
      'token.example': { identitytoken: 'refresh-1' },
      'helper-held.example': {},
    },
  });

  it.each<[string, unknown]>([
    [PRIVATE, { username: 'ann', password: 'pw1', serverAddress: '127.0.0.1:5001' }],
    ['registry.example.com/team/app:2', { username: 'bob', password: 'pw2', serverAddress: 'registry.example.com' }],
    ['busybox', { username: 'hub', password: 'pw3', serverAddress: 'https://index.docker.io/v1/' }],
    ['docker.io/someone/app', { username: 'hub', password: 'pw3', serverAddress: 'https://index.docker.io/v1/' }],
    ['token.example/app', { identityToken: 'refresh-1', serverAddress: 'token.example' }],
    ['helper-held.example/app', undefined],
    ['127.0.0.1:5000/berth/busybox:latest', undefined],
  ])('%s → %j', async (image, expected) => {
    expect(await creds(image)).toEqual(expected);
  });
});

describe('credentials from a credential helper', () => {
  it('asks credHelpers for its registry, credsStore for the others, and ignores auths where a helper holds them', async () => {
    writeFileSync(helperLog, '');
    const creds = resolver({
      auths: { '127.0.0.1:5001': { auth: b64('file-user:file-pw') }, 'plain.example': { auth: b64('p:q') } },
      credsStore: 'berthtest',
      credHelpers: { 'token.example': 'berthtest', 'broken.example': 'broken' },
    });
    expect(await creds(PRIVATE)).toEqual({ username: 'ann', password: HELPER_SECRET, serverAddress: '127.0.0.1:5001' });
    expect(await creds('token.example/app:1')).toEqual({ identityToken: 'refresh-token-1', serverAddress: 'token.example' });
    // The helper holds nothing for these: anonymous, even where auths has an entry (as Docker's CLI does).
    expect(await creds('plain.example/app')).toBeUndefined();
    expect(await creds('busybox')).toBeUndefined();
    expect(await creds('empty.example/app')).toBeUndefined();
    expect(readFileSync(helperLog, 'utf8').split('\n').filter(Boolean)).toEqual([
      'get 127.0.0.1:5001',
      'get token.example',
      'get plain.example',
      'get https://index.docker.io/v1/',
      'get empty.example',
    ]);
    await expect(creds('broken.example/app')).rejects.toThrow(CredentialHelperError);
  });

  it.each<[string, string, boolean, number?]>([
    ['broken', 'pulling 127.0.0.1:5001/berth/private:latest failed: credential helper docker-credential-broken exited with code 3: keychain is locked', true],
    ['missing', 'pulling 127.0.0.1:5001/berth/private:latest failed: credential helper docker-credential-missing is not on PATH', false],
    ['slow', 'pulling 127.0.0.1:5001/berth/private:latest failed: credential helper docker-credential-slow did not answer within 300 ms', true, 300],
    ['chatty', 'pulling 127.0.0.1:5001/berth/private:latest failed: credential helper docker-credential-chatty answered something other than {"Username", "Secret"} JSON', true],
    ['leaky', 'pulling 127.0.0.1:5001/berth/private:latest failed: credential helper docker-credential-leaky exited with code 1', true],
  ])('fails a helper that is %s with a CredentialHelperError naming it, never what it printed as credentials', async (name, message, retryable, timeoutMs) => {
    const error = await resolver({ credsStore: name }, timeoutMs)(PRIVATE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialHelperError);
    expect(error).toMatchObject({ message, retryable, code: 'CredentialHelperFailed', helper: `docker-credential-${name}` });
    expect(JSON.stringify(error)).not.toContain(HELPER_SECRET);
  });

  it('runs the helper the runner is given, with `get` and the server as its input', async () => {
    const asked: unknown[] = [];
    const run: HelperRunner = async (program, args, input, timeoutMs) => {
      asked.push({ program, args, input, timeoutMs });
      return { stdout: JSON.stringify({ ServerURL: input, Username: 'u', Secret: 's' }) };
    };
    const creds = registryCredentials(parseDockerConfig('{"credHelpers": {"gcr.io": "gcloud"}}', '/c'), { run, timeoutMs: 1234 });
    expect(await creds('gcr.io/project/app:1')).toEqual({ username: 'u', password: 's', serverAddress: 'gcr.io' });
    expect(asked).toEqual([{ program: 'docker-credential-gcloud', args: ['get'], input: 'gcr.io', timeoutMs: 1234 }]);
  });
});

describe('loadDockerConfig', () => {
  let home: string;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'berth-docker-config-'));
    mkdirSync(join(home, 'a-directory'));
    writeFileSync(join(home, 'bad.json'), '{"auths": {"r": {"auth": "bm9jb2xvbg=="}}}');
    writeFileSync(join(home, 'good.json'), JSON.stringify({ auths: { r: { auth: b64('a:b') } } }));
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('fails when a file named by --docker-config or DOCKER_CONFIG is missing, naming the file and who named it', async () => {
    const missing = join(home, 'missing.json');
    await expect(loadDockerConfig(missing, '--docker-config')).rejects.toThrow(
      new ConfigError(`cannot read the docker config given by --docker-config ${missing}: no such file`),
    );
    await expect(loadDockerConfig(missing, 'DOCKER_CONFIG')).rejects.toThrow(
      new ConfigError(`cannot read the docker config given by DOCKER_CONFIG ${missing}: no such file`),
    );
  });

  it('takes a missing default ~/.docker/config.json as no credentials', async () => {
    await expect(loadDockerConfig(join(home, 'nothing', 'config.json'), 'default')).resolves.toBeUndefined();
  });

  it('fails on a file it cannot read, and on a malformed one, even the default', async () => {
    const directory = join(home, 'a-directory');
    await expect(loadDockerConfig(directory, '--docker-config')).rejects.toThrow(`cannot read the docker config given by --docker-config ${directory}: EISDIR`);
    await expect(loadDockerConfig(directory, 'default')).rejects.toThrow(`cannot read the default docker config ${directory}: EISDIR`);
    await expect(loadDockerConfig(join(home, 'bad.json'), 'default')).rejects.toThrow(
      `docker config ${join(home, 'bad.json')}: auths["r"].auth: must be the base64 of user:password, and has no colon`,
    );
  });

  it('logs which registries it has credentials for, and never a credential', async () => {
    const { log, lines } = recordingLogger();
    const file = join(home, 'full.json');
    writeFileSync(file, JSON.stringify({ auths: { '127.0.0.1:5001': { auth: b64('ann:Log-Secret-1') }, held: {} }, credHelpers: { 'gcr.io': 'gcloud' } }));
    const creds = await openRegistryCredentials({ dockerConfigPath: file, dockerConfigSource: '--docker-config', helpers: { run: realRunner, timeoutMs: 1000 } }, log);
    expect(await creds(PRIVATE)).toMatchObject({ password: 'Log-Secret-1' });
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      expect.objectContaining({
        message: 'Read registry credentials from the docker config',
        dockerConfig: file,
        registries: ['127.0.0.1:5001'],
        credHelpers: { 'gcr.io': 'gcloud' },
      }),
    ]);
    expect(lines.join('\n')).not.toContain('Log-Secret-1');
    expect(lines.join('\n')).not.toContain(b64('ann:Log-Secret-1'));
  });

  it('says so when there is no default file, and pulls anonymously', async () => {
    const { log, lines } = recordingLogger();
    const path = join(home, 'none', 'config.json');
    const creds = await openRegistryCredentials({ dockerConfigPath: path, dockerConfigSource: 'default', helpers: { run: realRunner, timeoutMs: 1000 } }, log);
    expect(await creds(PRIVATE)).toBeUndefined();
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([expect.objectContaining({ message: 'No docker config file: pulls are anonymous', dockerConfig: path })]);
  });
});

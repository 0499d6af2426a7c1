import { describe, expect, it } from 'vitest';
import { parseDockerConfig, type DockerConfig } from '../../../../src/docker/registry-auth/docker-config.js';
import { ConfigError } from '../../../../src/errors.js';

const FILE = '/etc/berth/docker/config.json';
const b64 = (text: string): string => Buffer.from(text).toString('base64');

function parse(value: unknown): DockerConfig {
  return parseDockerConfig(typeof value === 'string' ? value : JSON.stringify(value), FILE);
}

describe('parseDockerConfig: what it reads', () => {
  it.each<[string, unknown, Partial<Record<'auths' | 'credHelpers', unknown>> & { credsStore?: string }]>([
    ['an empty object', {}, { auths: new Map(), credHelpers: new Map() }],
    ['auth as base64 user:password', { auths: { '127.0.0.1:5001': { auth: b64('ann:pw') } } }, { auths: new Map([['127.0.0.1:5001', { username: 'ann', password: 'pw' }]]) }],
    ['a password holding colons, split at the first', { auths: { r: { auth: b64('ann:a:b:c') } } }, { auths: new Map([['r', { username: 'ann', password: 'a:b:c' }]]) }],
    ['an empty password (user:)', { auths: { r: { auth: b64('ann:') } } }, { auths: new Map([['r', { username: 'ann', password: '' }]]) }],
    ['base64 broken over lines, as Go reads it', { auths: { r: { auth: `${b64('ann:pw').slice(0, 4)}\n${b64('ann:pw').slice(4)}` } } }, { auths: new Map([['r', { username: 'ann', password: 'pw' }]]) }],
    ['username and password fields', { auths: { r: { username: 'bob', password: 'pw2' } } }, { auths: new Map([['r', { username: 'bob', password: 'pw2' }]]) }],
    ['auth over username/password, as Docker reads it', { auths: { r: { auth: b64('ann:pw'), username: 'bob', password: 'x' } } }, { auths: new Map([['r', { username: 'ann', password: 'pw' }]]) }],
    ['an identity token, over auth', { auths: { r: { auth: b64('00000000-0000-0000-0000-000000000000:'), identitytoken: 'tok' } } }, { auths: new Map([['r', { identityToken: 'tok' }]]) }],
    ['an entry without credentials ({}, or email only)', { auths: { r: {}, s: { email: 'a@b.c' }, t: { auth: '' } } }, { auths: new Map([['r', null], ['s', null], ['t', null]]) }],
    ['keys with a scheme and a path, as written', { auths: { 'https://index.docker.io/v1/': { auth: b64('hub:pw') } } }, { auths: new Map([['https://index.docker.io/v1/', { username: 'hub', password: 'pw' }]]) }],
    ['credsStore', { credsStore: 'pass' }, { credsStore: 'pass' }],
    ['credHelpers per registry', { credHelpers: { 'gcr.io': 'gcloud', '127.0.0.1:5001': 'berth.test-1' } }, { credHelpers: new Map([['gcr.io', 'gcloud'], ['127.0.0.1:5001', 'berth.test-1']]) }],
    ['an empty credsStore and null sections as none', { credsStore: '', auths: null, credHelpers: null }, { auths: new Map(), credHelpers: new Map() }],
    ['other keys of the Docker CLI, left alone', { psFormat: 'table', proxies: { default: {} }, currentContext: 'x', auths: {} }, { auths: new Map() }],
  ])('%s', (_what, file, expected) => {
    const config = parse(file);
    expect(config).toMatchObject({ path: FILE, ...expected });
    if (!('credsStore' in expected)) expect(config.credsStore).toBeUndefined();
  });
});

describe('parseDockerConfig: what it refuses, naming the file and the entry', () => {
  const SECRET = 'Hunter2-secret';
  it.each<[string, unknown, string]>([
    ['JSON that does not parse', `{"auths": {"r": {"auth": "${SECRET}"`, `docker config ${FILE}: not valid JSON`],
    ['a JSON array', '[]', `docker config ${FILE}: must be a JSON object`],
    ['auths that is not an object', { auths: ['r'] }, `docker config ${FILE}: auths: must be an object`],
    ['an entry that is not an object', { auths: { r: 'user:pw' } }, `docker config ${FILE}: auths["r"]: must be an object`],
    ['auth that is not a string', { auths: { r: { auth: 12 } } }, `docker config ${FILE}: auths["r"].auth: must be a string`],
    ['auth that is not base64', { auths: { '127.0.0.1:5001': { auth: `${SECRET}!` } } }, `docker config ${FILE}: auths["127.0.0.1:5001"].auth: is not valid base64`],
    ['auth that is unpadded base64', { auths: { r: { auth: b64('ann:pw1').replace(/=+$/, '') } } }, `docker config ${FILE}: auths["r"].auth: is not valid base64`],
    ['auth without a colon', { auths: { r: { auth: b64(SECRET) } } }, `docker config ${FILE}: auths["r"].auth: must be the base64 of user:password, and has no colon`],
    ['a username without a password', { auths: { r: { username: 'ann' } } }, `docker config ${FILE}: auths["r"]: has a username and no password`],
    ['a password without a username', { auths: { r: { password: SECRET } } }, `docker config ${FILE}: auths["r"]: has a password and no username`],
    ['a password that is not a string', { auths: { r: { username: 'ann', password: 1234 } } }, `docker config ${FILE}: auths["r"].password: must be a string`],
    ['a credsStore that is a path', { credsStore: '../../bin/sh' }, `docker config ${FILE}: credsStore: must name a credential helper (docker-credential-<name> on PATH), got "../../bin/sh"`],
    ['a credsStore that is not a string', { credsStore: { name: 'pass' } }, `docker config ${FILE}: credsStore: must name a credential helper (docker-credential-<name> on PATH), got object`],
    ['credHelpers that is not an object', { credHelpers: 'pass' }, `docker config ${FILE}: credHelpers: must be an object`],
    ['a credHelpers entry that is not a name', { credHelpers: { 'gcr.io': 'gcloud helper' } }, `docker config ${FILE}: credHelpers["gcr.io"]: must name a credential helper`],
  ])('%s', (_what, file, message) => {
    const refusal = (() => {
      try {
        parse(file);
      } catch (error) {
        return error;
      }
      throw new Error('parsed a file that should be refused');
    })();
    expect(refusal).toBeInstanceOf(ConfigError);
    expect((refusal as Error).message.startsWith(message)).toBe(true);
    // Nothing the file holds as a value is quoted back: it may be a secret.
    expect((refusal as Error).message).not.toContain(SECRET);
    expect((refusal as Error).message).not.toContain(b64(SECRET));
  });

  it('says where JSON broke, without quoting the text around it', () => {
    expect(() => parse('{"auths": {"r": {"auth": "x" }}')).toThrow(/^docker config \/etc\/berth\/docker\/config\.json: not valid JSON \(at position \d+/);
  });
});

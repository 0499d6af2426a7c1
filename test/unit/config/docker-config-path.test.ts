import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/config.js';

const ctx = (env: Record<string, string> = {}) => ({ env, uid: 1000, home: '/home/op' });

describe('resolveConfig: the docker config', () => {
  it('takes --docker-config as the file, then DOCKER_CONFIG as its directory, then ~/.docker/config.json', () => {
    expect(resolveConfig({ dockerConfig: '/etc/berth/auth.json' }, ctx({ DOCKER_CONFIG: '/env/docker' }))).toMatchObject({
      dockerConfigPath: '/etc/berth/auth.json',
      dockerConfigSource: '--docker-config',
    });
    expect(resolveConfig({}, ctx({ DOCKER_CONFIG: '/env/docker' }))).toMatchObject({
      dockerConfigPath: '/env/docker/config.json',
      dockerConfigSource: 'DOCKER_CONFIG',
    });
    expect(resolveConfig({}, ctx())).toMatchObject({ dockerConfigPath: '/home/op/.docker/config.json', dockerConfigSource: 'default' });
  });

  it('reads an empty DOCKER_CONFIG as unset, and a relative path against the working directory', () => {
    expect(resolveConfig({}, ctx({ DOCKER_CONFIG: '' })).dockerConfigSource).toBe('default');
    expect(resolveConfig({ dockerConfig: 'auth.json' }, ctx()).dockerConfigPath).toBe(`${process.cwd()}/auth.json`);
  });

  it('gives a credential helper 30 s', () => {
    expect(resolveConfig({}, ctx()).credentialHelperTimeoutMs).toBe(30_000);
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/config.js';

describe('remote Docker settings', () => {
  let home: string;
  const ctx = (env: Record<string, string> = {}) => ({ env, uid: 1000, home });
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'berth-home-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  const certDir = (name: string): string => {
    const dir = join(home, name);
    mkdirSync(dir, { recursive: true });
    for (const file of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, file), 'x');
    return dir;
  };

  it('plain tcp and unix hosts have neither TLS nor ssh settings', () => {
    for (const DOCKER_HOST of ['tcp://127.0.0.1:2375', 'unix:///var/run/docker.sock']) {
      const config = resolveConfig({}, ctx({ DOCKER_HOST }));
      expect([config.dockerTls, config.dockerSsh]).toEqual([undefined, undefined]);
    }
  });

  it('DOCKER_TLS_VERIFY takes the files from DOCKER_CERT_PATH, else ~/.docker; the flags win', () => {
    const envDir = certDir('env-certs');
    const fromEnv = resolveConfig({}, ctx({ DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: envDir }));
    expect(fromEnv.dockerTls).toEqual({ ca: join(envDir, 'ca.pem'), cert: join(envDir, 'cert.pem'), key: join(envDir, 'key.pem') });
    const homeDir = certDir('.docker');
    expect(resolveConfig({}, ctx({ DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: 'true' })).dockerTls?.ca).toBe(join(homeDir, 'ca.pem'));
    const flagDir = certDir('flag-certs');
    const fromFlags = resolveConfig({ dockerHost: 'tcp://h:2376', dockerTlsVerify: true, dockerCertPath: flagDir }, ctx({ DOCKER_CERT_PATH: envDir }));
    expect(fromFlags.dockerTls?.key).toBe(join(flagDir, 'key.pem'));
  });

  it('refuses TLS with a missing file, on a non-tcp host, or a bad DOCKER_TLS_VERIFY, naming each', () => {
    const dir = certDir('partial');
    rmSync(join(dir, 'key.pem'));
    expect(() => resolveConfig({}, ctx({ DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir }))).toThrow(
      `Docker host tcp://h:2376 (TLS): TLS file ${join(dir, 'key.pem')} does not exist (--docker-cert-path, DOCKER_CERT_PATH)`,
    );
    expect(() => resolveConfig({ dockerTlsVerify: true }, ctx())).toThrow(/needs a tcp:\/\/host:port Docker host, got unix:\/\/\/var\/run\/docker.sock/);
    expect(() => resolveConfig({}, ctx({ DOCKER_TLS_VERIFY: 'yes' }))).toThrow(/DOCKER_TLS_VERIFY\) must be true, false, 1 or 0, got "yes"/);
  });

  it('an ssh host takes the named key, else the agent, else ~/.ssh/id_ed25519; known hosts under the data dir', () => {
    const key = join(home, 'deploy-key');
    writeFileSync(key, 'k');
    const base = { DOCKER_HOST: 'ssh://root@127.0.0.1:2222', BERTH_DATA_DIR: join(home, 'data') };
    expect(resolveConfig({}, ctx({ ...base, BERTH_DOCKER_SSH_KEY: key, SSH_AUTH_SOCK: '/run/a.sock' })).dockerSsh).toEqual({
      keyPath: key,
      knownHostsPath: join(home, 'data', 'docker-ssh-known-hosts'),
    });
    expect(resolveConfig({}, ctx({ ...base, SSH_AUTH_SOCK: '/run/a.sock' })).dockerSsh?.agentSocket).toBe('/run/a.sock');
    expect(() => resolveConfig({}, ctx(base))).toThrow(/ssh:\/\/root@127.0.0.1:2222 needs an ssh key/);
    mkdirSync(join(home, '.ssh'));
    writeFileSync(join(home, '.ssh', 'id_ed25519'), 'k');
    const fallback = resolveConfig({ dockerSshKnownHosts: join(home, 'kh') }, ctx(base)).dockerSsh;
    expect(fallback).toEqual({ keyPath: join(home, '.ssh', 'id_ed25519'), knownHostsPath: join(home, 'kh') });
    expect(() => resolveConfig({ dockerSshKey: join(home, 'nope') }, ctx(base))).toThrow(`ssh key ${join(home, 'nope')} does not exist`);
  });

  it('refuses a malformed ssh host at start-up', () => {
    expect(() => resolveConfig({ dockerHost: 'ssh://root@h:22/x' }, ctx())).toThrow(/must look like ssh:\/\/user@host/);
  });
});

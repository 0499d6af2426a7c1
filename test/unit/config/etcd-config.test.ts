import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig, type ConfigFlags } from '../../../src/config/config.js';
import { ConfigError } from '../../../src/errors.js';

const ctx = (env: Record<string, string> = {}) => ({ env, uid: 1000, home: '/home/op' });

describe('etcd settings', () => {
  it('leave the fleet off without endpoints', () => {
    expect(resolveConfig({}, ctx()).etcd).toBeUndefined();
    expect(resolveConfig({}, ctx({ BERTH_ETCD_ENDPOINTS: ' ' })).etcd).toBeUndefined();
  });

  it('take a comma list of endpoints, the default prefix /berth and lease TTL 10 s; no host name means the agent ID', () => {
    expect(resolveConfig({ etcdEndpoints: 'http://127.0.0.1:2379, http://10.0.0.2:2379' }, ctx()).etcd).toEqual({
      endpoints: ['http://127.0.0.1:2379', 'http://10.0.0.2:2379'],
      prefix: '/berth',
      leaseTtlSeconds: 10,
    });
  });

  it('take a flag over the environment', () => {
    const env = ctx({ BERTH_ETCD_ENDPOINTS: 'http://a:1', BERTH_ETCD_PREFIX: '/env', BERTH_HOST_NAME: 'env-host', BERTH_ETCD_LEASE_TTL: '30' });
    expect(resolveConfig({}, env).etcd).toMatchObject({ endpoints: ['http://a:1'], prefix: '/env', hostName: 'env-host', leaseTtlSeconds: 30 });
    expect(resolveConfig({ etcdEndpoints: 'https://b:2', etcdPrefix: '/fleet/', hostName: 'h1', etcdLeaseTtl: '5' }, env).etcd).toMatchObject({
      endpoints: ['https://b:2'],
      prefix: '/fleet',
      hostName: 'h1',
      leaseTtlSeconds: 5,
    });
  });

  it('keeps the TLS files as absolute paths, never their contents', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-etcd-tls-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), 'secret');
    const etcd = resolveConfig({ etcdEndpoints: 'https://a:1', etcdCa: join(dir, 'ca.pem'), etcdCert: join(dir, 'cert.pem'), etcdKey: join(dir, 'key.pem') }, ctx()).etcd;
    expect(etcd?.tls).toEqual({ ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') });
    expect(() => resolveConfig({ etcdEndpoints: 'https://a:1', etcdCert: join(dir, 'cert.pem') }, ctx())).toThrow(new ConfigError('etcd TLS needs both --etcd-cert and --etcd-key, or neither'));
  });

  it.each<[ConfigFlags, string]>([
    [{ etcdEndpoints: '127.0.0.1:2379' }, 'etcd endpoints (--etcd-endpoints, BERTH_ETCD_ENDPOINTS) must be http:// or https:// URLs separated by commas, got "127.0.0.1:2379"'],
    [{ etcdEndpoints: 'http://a:1/v3' }, 'etcd endpoints (--etcd-endpoints, BERTH_ETCD_ENDPOINTS) must be http:// or https:// URLs separated by commas, got "http://a:1/v3"'],
    [{ etcdEndpoints: 'http://a:1', etcdPrefix: 'berth' }, 'etcd prefix (--etcd-prefix, BERTH_ETCD_PREFIX) must start with / and hold only letters, digits, _ . - and single slashes, got "berth"'],
    [{ etcdEndpoints: 'http://a:1', hostName: 'a/b' }, 'host name (--host-name, BERTH_HOST_NAME) must be 1-255 letters, digits, _ . or -, got "a/b"'],
    [{ etcdEndpoints: 'http://a:1', etcdLeaseTtl: '1' }, 'etcd lease ttl (--etcd-lease-ttl, BERTH_ETCD_LEASE_TTL) must be at least 2 seconds, got 1'],
    [{ etcdEndpoints: 'http://a:1', etcdCa: '/nonexistent/ca.pem' }, 'etcd TLS ca file /nonexistent/ca.pem does not exist (--etcd-ca, BERTH_ETCD_CA)'],
  ])('refuses %j naming the setting', (flags, message) => {
    expect(() => resolveConfig(flags, ctx())).toThrow(new ConfigError(message));
  });
});

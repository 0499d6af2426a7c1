import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { endpointUrl, parseEndpoint } from '../../../src/docker/docker-endpoint.js';
import { connectionOptions, withoutDockerEnv } from '../../../src/docker/remote-connection.js';
import { verifyHostKey } from '../../../src/docker/ssh-known-hosts.js';
import { endpointRefusalOf, isUnreachable } from '../../../src/docker/wire-errors.js';
import { ConfigError } from '../../../src/errors.js';

const tls = { ca: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem' };

describe('parseEndpoint', () => {
  it.each([
    [{}, { kind: 'unix', socketPath: '/var/run/docker.sock' }, 'unix:///var/run/docker.sock'],
    [{ host: 'unix:///run/d.sock' }, { kind: 'unix', socketPath: '/run/d.sock' }, 'unix:///run/d.sock'],
    [{ host: 'tcp://127.0.0.1:2375' }, { kind: 'tcp', host: '127.0.0.1', port: 2375 }, 'tcp://127.0.0.1:2375'],
    [{ host: 'tcp://[::1]:2376', tls }, { kind: 'tcp', host: '::1', port: 2376, tls }, 'tcp://[::1]:2376 (TLS)'],
    [{ host: 'ssh://root@127.0.0.1:2222' }, { kind: 'ssh', user: 'root', host: '127.0.0.1', port: 2222 }, 'ssh://root@127.0.0.1:2222'],
    [{ host: 'ssh://docker.example' }, { kind: 'ssh', user: undefined, host: 'docker.example', port: 22 }, 'ssh://docker.example:22'],
  ] as const)('%j', (options, endpoint, url) => {
    const parsed = parseEndpoint(options);
    expect(parsed).toEqual(endpoint);
    expect(endpointUrl(parsed)).toBe(url);
  });

  it.each([
    [{ host: 'tcp://127.0.0.1' }, /unsupported Docker host "tcp:\/\/127.0.0.1"/],
    [{ host: 'tcp://127.0.0.1:70000' }, /port 70000, outside 1-65535/],
    [{ host: 'ssh://root@host:22/path' }, /must look like ssh:\/\/user@host/],
    [{ host: 'ssh://root@host:0' }, /port 0, outside/],
    [{ host: 'unix://relative.sock' }, /absolute socket path/],
    [{ host: 'ssh://root@h', tls }, /TLS .* needs a tcp:\/\/host:port Docker host, got ssh:\/\/root@h:22/],
    [{ host: 'npipe:////./pipe/docker' }, /unsupported Docker host/],
  ] as const)('refuses %j', (options, message) => {
    expect(() => parseEndpoint(options)).toThrow(ConfigError);
    expect(() => parseEndpoint(options)).toThrow(message);
  });
});

describe('connectionOptions', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads the TLS files once and speaks https', () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
    const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
    for (const [name, path] of Object.entries(files)) writeFileSync(path, name);
    const options = connectionOptions({ kind: 'tcp', host: '127.0.0.1', port: 2376, tls: files }, undefined);
    expect(options).toMatchObject({ protocol: 'https', host: '127.0.0.1', port: 2376, socketPath: undefined });
    expect([options.ca?.toString(), options.cert?.toString(), options.key?.toString()]).toEqual(['ca', 'cert', 'key']);
  });

  it('names a TLS file it cannot read', () => {
    expect(() => connectionOptions({ kind: 'tcp', host: 'h', port: 2376, tls }, undefined)).toThrow(/cannot read the Docker TLS CA certificate \/certs\/ca.pem/);
  });

  it('logs in over ssh with the key file, or else the agent', () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-ssh-'));
    writeFileSync(join(dir, 'id'), 'KEY');
    const endpoint = { kind: 'ssh', user: 'root', host: '127.0.0.1', port: 2222 } as const;
    const withKey = connectionOptions(endpoint, { keyPath: join(dir, 'id'), knownHostsPath: join(dir, 'kh') });
    expect(withKey).toMatchObject({ protocol: 'ssh', host: '127.0.0.1', port: 2222, username: 'root' });
    expect(String(withKey.sshOptions?.privateKey)).toBe('KEY');
    const withAgent = connectionOptions(endpoint, { agentSocket: '/run/agent.sock', knownHostsPath: join(dir, 'kh') });
    expect(withAgent.sshOptions).toMatchObject({ agent: '/run/agent.sock' });
    expect(() => connectionOptions(endpoint, undefined)).toThrow(/ssh:\/\/root@127.0.0.1:2222 needs an ssh key/);
  });

  it('hides the Docker environment docker-modem would read, and puts it back', () => {
    process.env.DOCKER_CERT_PATH = '/nowhere';
    try {
      expect(withoutDockerEnv(() => process.env.DOCKER_CERT_PATH)).toBeUndefined();
      expect(process.env.DOCKER_CERT_PATH).toBe('/nowhere');
    } finally {
      delete process.env.DOCKER_CERT_PATH;
    }
  });
});

describe('verifyHostKey (accept-new)', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  // The ssh wire form of a public key: a length-prefixed type name, then the key material.
  const blob = (type: string, material: string): Buffer => {
    const name = Buffer.from(type);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(name.length);
    return Buffer.concat([length, name, Buffer.from(material)]);
  };

  it('accepts a new host once, then only its key', () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-kh-'));
    const path = join(dir, 'sub', 'known_hosts');
    const key = blob('ssh-ed25519', 'first');
    expect(verifyHostKey(path, '127.0.0.1', 2222, key)).toBe('added');
    expect(readFileSync(path, 'utf8')).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${key.toString('base64')}\n`);
    expect(verifyHostKey(path, '127.0.0.1', 2222, key)).toBe('known');
    expect(verifyHostKey(path, '127.0.0.1', 2222, blob('ssh-ed25519', 'other'))).toBe('mismatch');
    // Another port is another host.
    expect(verifyHostKey(path, '127.0.0.1', 22, blob('ssh-ed25519', 'other'))).toBe('added');
    expect(readFileSync(path, 'utf8').split('\n')[1]).toMatch(/^127\.0\.0\.1 ssh-ed25519 /);
  });
});

describe('endpointRefusalOf', () => {
  it.each([
    [Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }), /ssh key was refused/],
    [new Error('Host denied (verification failed)'), /ssh host key is not the known one/],
    [Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), /not trusted by our CA/],
    [Object.assign(new Error('alert certificate required'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }), /client certificate is likely not accepted/],
    [
      Object.assign(new Error('Client network socket disconnected before secure TLS connection was established'), { code: 'ECONNRESET' }),
      /does not accept our client certificate/,
    ],
  ])('%s is a refusal', (err, message) => {
    expect(endpointRefusalOf(err)).toMatch(message);
  });

  it('leaves an unreachable host to the unreachable rule', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(endpointRefusalOf(refused)).toBeUndefined();
    expect(isUnreachable(refused)).toBe(true);
  });
});

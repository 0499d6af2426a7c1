import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '../errors.js';
import { endpointUrl, type Endpoint } from './docker-endpoint.js';
import { verifyHostKey } from './ssh-known-hosts.js';

/** How an ssh:// Docker host is logged in to: a private key file, else the ssh agent; host keys per known-hosts file. */
export interface SshAuth {
  readonly keyPath?: string;
  readonly agentSocket?: string;
  readonly knownHostsPath: string;
}

/** docker-modem's connection options, each one spelled out. */
export interface ModemConnection {
  socketPath: string | undefined;
  host: string | undefined;
  port: number | undefined;
  protocol: 'http' | 'https' | 'ssh';
  timeout: undefined;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  username?: string;
  sshOptions?: Record<string, unknown>;
}

/**
 * Every connection setting is spelled out: docker-modem otherwise merges in DOCKER_HOST,
 * DOCKER_TLS_VERIFY and DOCKER_CLIENT_TIMEOUT from the environment, and its `timeout` is an idle
 * timeout that would cut quiet event streams; deadlines are enforced by the client instead.
 * Certificate and key files are read here, once, so a missing one stops the start.
 */
export function connectionOptions(endpoint: Endpoint, ssh: SshAuth | undefined): ModemConnection {
  const base = { timeout: undefined } as const;
  switch (endpoint.kind) {
    case 'unix':
      return { ...base, socketPath: endpoint.socketPath, host: undefined, port: undefined, protocol: 'http' };
    case 'tcp':
      if (endpoint.tls === undefined) return { ...base, socketPath: undefined, host: endpoint.host, port: endpoint.port, protocol: 'http' };
      return {
        ...base,
        socketPath: undefined,
        host: endpoint.host,
        port: endpoint.port,
        protocol: 'https',
        ca: readSecretFile('TLS CA certificate', endpoint.tls.ca),
        cert: readSecretFile('TLS client certificate', endpoint.tls.cert),
        key: readSecretFile('TLS client key', endpoint.tls.key),
      };
    case 'ssh': {
      if (ssh === undefined || (ssh.keyPath === undefined && ssh.agentSocket === undefined)) {
        throw new ConfigError(`Docker host ${endpointUrl(endpoint)} needs an ssh key: --docker-ssh-key, BERTH_DOCKER_SSH_KEY, SSH_AUTH_SOCK or ~/.ssh/id_ed25519`);
      }
      const { host, port } = endpoint;
      return {
        ...base,
        socketPath: undefined,
        host,
        port,
        protocol: 'ssh',
        ...(endpoint.user === undefined ? {} : { username: endpoint.user }),
        sshOptions: {
          ...(ssh.keyPath !== undefined ? { privateKey: readSecretFile('ssh private key', ssh.keyPath) } : { agent: ssh.agentSocket }),
          hostVerifier: (key: Buffer) => verifyHostKey(ssh.knownHostsPath, host, port, key) !== 'mismatch',
        },
      };
    }
  }
}

function readSecretFile(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`cannot read the Docker ${what} ${path}: ${errorMessage(error)}`);
  }
}

const DOCKER_ENV = ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_CLIENT_TIMEOUT'] as const;

/**
 * docker-modem reads these at construction, even with every option given: with DOCKER_CERT_PATH
 * it reads the files there (throwing if absent), and for an ssh DOCKER_HOST its ssh agent
 * overrides ours. The config has resolved them already, so they are hidden while it is built.
 */
export function withoutDockerEnv<T>(build: () => T): T {
  const saved = DOCKER_ENV.map((name) => [name, process.env[name]] as const);
  for (const name of DOCKER_ENV) delete process.env[name];
  try {
    return build();
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}

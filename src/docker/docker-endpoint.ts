import { ConfigError } from '../errors.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** Where Docker is, from DOCKER_HOST when set. */
export function dockerOptionsFromEnv(env: NodeJS.ProcessEnv): { socketPath?: string; host?: string } {
  const host = env.DOCKER_HOST?.trim();
  return host ? { host } : { socketPath: DEFAULT_DOCKER_SOCKET };
}

/** The Docker CLI's TLS files (`DOCKER_CERT_PATH`'s ca.pem, cert.pem, key.pem): paths only, read when connecting. */
export interface TlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export type Endpoint =
  | { readonly kind: 'unix'; readonly socketPath: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly tls?: TlsFiles }
  | { readonly kind: 'ssh'; readonly user: string | undefined; readonly host: string; readonly port: number };

export const DEFAULT_SSH_PORT = 22;

const TCP = /^(?:tcp|http|https):\/\/([^/:@]+|\[[^\]]+\]):(\d{1,5})\/?$/;
const SSH = /^ssh:\/\/(?:([^@/:]+)@)?([^/:@[\]]+|\[[^\]]+\])(?::(\d{1,5}))?\/?$/;

/**
 * A socket path, or a DOCKER_HOST style address as the Docker CLI takes it: `unix:///path`,
 * `tcp://host:port` (TLS when `tls` is given) or `ssh://[user@]host[:port]`.
 */
export function parseEndpoint(options: { readonly socketPath?: string; readonly host?: string; readonly tls?: TlsFiles }): Endpoint {
  if (options.socketPath !== undefined && options.host !== undefined) {
    throw new ConfigError('give either a Docker socket path or a Docker host, not both');
  }
  const endpoint = parseHost(options);
  if (options.tls !== undefined && endpoint.kind !== 'tcp') {
    throw new ConfigError(`Docker TLS (DOCKER_TLS_VERIFY, --docker-tls-verify) needs a tcp://host:port Docker host, got ${endpointUrl(endpoint)}`);
  }
  return endpoint;
}

function parseHost(options: { readonly socketPath?: string; readonly host?: string; readonly tls?: TlsFiles }): Endpoint {
  if (options.host === undefined) return { kind: 'unix', socketPath: options.socketPath ?? DEFAULT_DOCKER_SOCKET };
  const host = options.host;
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new ConfigError(`Docker host ${host} must name an absolute socket path`);
    return { kind: 'unix', socketPath };
  }
  const tcp = TCP.exec(host);
  if (tcp) {
    const port = checkedPort(host, tcp[2]!);
    const name = unbracket(tcp[1]!);
    return options.tls === undefined ? { kind: 'tcp', host: name, port } : { kind: 'tcp', host: name, port, tls: options.tls };
  }
  const ssh = SSH.exec(host);
  if (ssh) {
    const port = ssh[3] === undefined ? DEFAULT_SSH_PORT : checkedPort(host, ssh[3]);
    return { kind: 'ssh', user: ssh[1], host: unbracket(ssh[2]!), port };
  }
  if (host.startsWith('ssh://')) {
    throw new ConfigError(`Docker host ${JSON.stringify(host)} must look like ssh://user@host or ssh://user@host:port (no path)`);
  }
  throw new ConfigError(
    `unsupported Docker host ${JSON.stringify(host)}: use unix:///path/to/docker.sock, tcp://host:port (with TLS: DOCKER_TLS_VERIFY) or ssh://user@host[:port]`,
  );
}

function checkedPort(host: string, raw: string): number {
  const port = Number(raw);
  if (port < 1 || port > 65535) throw new ConfigError(`Docker host ${JSON.stringify(host)} has port ${raw}, outside 1-65535`);
  return port;
}

function unbracket(host: string): string {
  return host.replace(/^\[|\]$/g, '');
}

/** The endpoint as errors and logs name it; never a key or certificate, only where it is. */
export function endpointUrl(endpoint: Endpoint): string {
  switch (endpoint.kind) {
    case 'unix':
      return `unix://${endpoint.socketPath}`;
    case 'tcp':
      return `tcp://${hostPort(endpoint.host, endpoint.port)}${endpoint.tls ? ' (TLS)' : ''}`;
    case 'ssh':
      return `ssh://${endpoint.user === undefined ? '' : `${endpoint.user}@`}${hostPort(endpoint.host, endpoint.port)}`;
  }
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

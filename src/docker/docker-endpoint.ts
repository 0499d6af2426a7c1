import { ConfigError } from '../errors.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** Where Docker is, from DOCKER_HOST when set. */
export function dockerOptionsFromEnv(env: NodeJS.ProcessEnv): { socketPath?: string; host?: string } {
  const host = env.DOCKER_HOST?.trim();
  return host ? { host } : { socketPath: DEFAULT_DOCKER_SOCKET };
}

export type Endpoint =
  | { readonly kind: 'unix'; readonly socketPath: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/** A socket path, or a DOCKER_HOST style `unix://` or `tcp://` address (plain HTTP only). */
export function parseEndpoint(options: { readonly socketPath?: string; readonly host?: string }): Endpoint {
  if (options.socketPath !== undefined && options.host !== undefined) {
    throw new ConfigError('give either a Docker socket path or a Docker host, not both');
  }
  if (options.host === undefined) return { kind: 'unix', socketPath: options.socketPath ?? DEFAULT_DOCKER_SOCKET };
  const host = options.host;
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new ConfigError(`Docker host ${host} must name an absolute socket path`);
    return { kind: 'unix', socketPath };
  }
  const match = /^(?:tcp|http):\/\/([^/:]+|\[[^\]]+\]):(\d{1,5})\/?$/.exec(host);
  if (match) return { kind: 'tcp', host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) };
  throw new ConfigError(
    `unsupported Docker host ${JSON.stringify(host)}: use unix:///path/to/docker.sock or tcp://host:port (TLS and ssh are not supported)`,
  );
}

export function endpointUrl(endpoint: Endpoint): string {
  return endpoint.kind === 'unix' ? `unix://${endpoint.socketPath}` : `tcp://${endpoint.host}:${endpoint.port}`;
}

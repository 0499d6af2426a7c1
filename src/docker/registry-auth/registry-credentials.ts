import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { RegistryAuth } from '../docker-client.js';
import { helperCredentials, type HelperRunner } from './credential-helper.js';
import { EMPTY_DOCKER_CONFIG, parseDockerConfig, type DockerConfig } from './docker-config.js';
import { entryFor, registryHost, serverKey } from './registry-host.js';

/** The credentials for pulling one image, or undefined for an anonymous pull. */
export type CredentialsFor = (image: string) => Promise<RegistryAuth | undefined>;

/** Where the docker config path came from: only the implicit default may be absent. */
export type DockerConfigSource = '--docker-config' | 'DOCKER_CONFIG' | 'default';

export interface HelperOptions {
  readonly run: HelperRunner;
  readonly timeoutMs: number;
}

/**
 * Docker CLI's rule for one registry: a helper named for it in `credHelpers`, else `credsStore`,
 * holds its credentials (the file's `auths` entry is then not used, as Docker's CLI does);
 * without a helper, its `auths` entry does. No entry: an anonymous pull.
 */
export function registryCredentials(config: DockerConfig, helpers: HelperOptions): CredentialsFor {
  return async (image) => {
    const host = registryHost(image);
    const key = serverKey(host);
    const helper = entryFor(config.credHelpers, host) ?? config.credsStore;
    if (helper !== undefined) return helperCredentials(helper, key, image, helpers.run, helpers.timeoutMs);
    const stored = entryFor(config.auths, host);
    if (!stored) return undefined;
    return 'identityToken' in stored
      ? { identityToken: stored.identityToken, serverAddress: key }
      : { username: stored.username, password: stored.password, serverAddress: key };
  };
}

/**
 * Reads the docker config once, at start-up. A file named explicitly (`--docker-config`,
 * `DOCKER_CONFIG`) must be there; the implicit `~/.docker/config.json` may be absent (no
 * credentials), but once present it must read and parse like any other.
 */
export async function loadDockerConfig(path: string, source: DockerConfigSource): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && source === 'default') return undefined;
    const given = source === 'default' ? 'the default docker config' : `the docker config given by ${source}`;
    throw new ConfigError(`cannot read ${given} ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}`);
  }
  return parseDockerConfig(text, path);
}

/** Loads the docker config and says, without any secret, which registries it has credentials for. */
export async function openRegistryCredentials(
  options: { readonly dockerConfigPath: string; readonly dockerConfigSource: DockerConfigSource; readonly helpers: HelperOptions },
  log: Logger,
): Promise<CredentialsFor> {
  const { dockerConfigPath: path, dockerConfigSource: source } = options;
  const config = await loadDockerConfig(path, source);
  if (!config) {
    log.info('No docker config file: pulls are anonymous', { dockerConfig: path });
    return registryCredentials(EMPTY_DOCKER_CONFIG(path), options.helpers);
  }
  log.info('Read registry credentials from the docker config', {
    dockerConfig: path,
    registries: [...config.auths].filter(([, c]) => c !== null).map(([key]) => key),
    ...(config.credsStore ? { credsStore: config.credsStore } : {}),
    ...(config.credHelpers.size > 0 ? { credHelpers: Object.fromEntries(config.credHelpers) } : {}),
  });
  return registryCredentials(config, options.helpers);
}

import { readFileSync } from 'node:fs';
import { docker } from './agent-process.js';

/**
 * The password-protected test registry, as scripts/auth-registry.env (which
 * scripts/setup-auth-registry.sh reads too) defines it: one place for its address and test user.
 */
export interface AuthRegistry {
  /** `127.0.0.1:5001` */
  readonly host: string;
  /** An image only the test user may pull. */
  readonly image: string;
  readonly username: string;
  readonly password: string;
}

function readEnvFile(path: URL): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) values[match[1]!] = match[2]!;
  }
  return values;
}

const env = readEnvFile(new URL('../../scripts/auth-registry.env', import.meta.url));

function value(name: string): string {
  const v = env[name];
  if (v === undefined || v === '') throw new Error(`scripts/auth-registry.env has no ${name}`);
  return v;
}

export const AUTH_REGISTRY: AuthRegistry = {
  host: value('BERTH_AUTH_REGISTRY'),
  image: value('BERTH_AUTH_IMAGE'),
  username: value('BERTH_AUTH_USER'),
  password: value('BERTH_AUTH_PASSWORD'),
};

/** `auth` as a docker config writes it: base64 of `user:password`. */
export function basicAuth(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`).toString('base64');
}

/** Every form of the test password a leak could take: as written, and inside a config's `auth`. */
export function secretForms(registry: AuthRegistry = AUTH_REGISTRY): string[] {
  return [registry.password, basicAuth(registry.username, registry.password)];
}

/** Whether the Docker engine holds `image` now (`docker image inspect` fails when it does not). */
export function isLocalImage(image: string): boolean {
  try {
    docker('image', 'inspect', '--format', '{{.Id}}', image);
    return true;
  } catch {
    return false;
  }
}

/** Removes the engine's copy, so the next pull must reach the registry: a cached image proves nothing. */
export function forgetImage(image: string): void {
  if (isLocalImage(image)) docker('rmi', image);
}

import { ConfigError } from '../../errors.js';

/** Credentials written in a docker config's `auths`: a user and password, or an identity token. */
export type StoredCredentials =
  | { readonly username: string; readonly password: string }
  | { readonly identityToken: string };

/** What berth uses of a Docker CLI `config.json`; every other key of the file is left alone. */
export interface DockerConfig {
  readonly path: string;
  /**
   * `auths`, by key as written (`127.0.0.1:5001`, `https://index.docker.io/v1/`); null for an
   * entry without credentials (`{}`, as `docker login` writes when a helper holds them).
   */
  readonly auths: ReadonlyMap<string, StoredCredentials | null>;
  /** The helper for every registry without its own in `credHelpers`. */
  readonly credsStore?: string;
  /** Registry → helper name (`docker-credential-<name>`). */
  readonly credHelpers: ReadonlyMap<string, string>;
}

export const EMPTY_DOCKER_CONFIG = (path: string): DockerConfig => ({ path, auths: new Map(), credHelpers: new Map() });

/** A name that is a program name on PATH, never a path: `docker-credential-<name>`. */
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Reads a docker config's text. A file Docker's CLI would refuse, or that would make every pull
 * from a registry fail, is refused here naming the file and the entry, and never quoting a value
 * that may be a secret (JSON's own error messages quote the text, so they are not passed on).
 */
export function parseDockerConfig(text: string, path: string): DockerConfig {
  const refuse = (where: string, problem: string): never => {
    throw new ConfigError(`docker config ${path}: ${where ? `${where}: ` : ''}${problem}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const at = /at position \d+(?: \(line \d+ column \d+\))?/.exec(String((error as Error).message));
    return refuse('', `not valid JSON${at ? ` (${at[0]})` : ''}`);
  }
  if (!isObject(raw)) return refuse('', 'must be a JSON object');

  const auths = new Map<string, StoredCredentials | null>();
  const rawAuths = optionalObject(raw, 'auths', refuse);
  for (const [key, entry] of Object.entries(rawAuths)) {
    const where = `auths[${JSON.stringify(key)}]`;
    if (!isObject(entry)) return refuse(where, 'must be an object');
    auths.set(key, storedCredentials(entry, where, refuse));
  }

  const credHelpers = new Map<string, string>();
  for (const [host, helper] of Object.entries(optionalObject(raw, 'credHelpers', refuse))) {
    credHelpers.set(host, helperName(helper, `credHelpers[${JSON.stringify(host)}]`, refuse));
  }
  const store = raw.credsStore;
  const credsStore = store === undefined || store === null || store === '' ? undefined : helperName(store, 'credsStore', refuse);
  return { path, auths, credHelpers, ...(credsStore === undefined ? {} : { credsStore }) };
}

type Refuse = (where: string, problem: string) => never;

function storedCredentials(entry: Record<string, unknown>, where: string, refuse: Refuse): StoredCredentials | null {
  for (const field of ['auth', 'username', 'password', 'identitytoken'] as const) {
    const value = entry[field];
    if (value !== undefined && value !== null && typeof value !== 'string') refuse(`${where}.${field}`, 'must be a string');
  }
  const text = (field: string): string | undefined => {
    const value = entry[field];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const identityToken = text('identitytoken');
  if (identityToken !== undefined) return { identityToken };
  const auth = text('auth');
  if (auth !== undefined) {
    // Go's decoder, which Docker uses, skips line breaks; anything else must be padded base64.
    const compact = auth.replace(/[\r\n]/g, '');
    if (!BASE64.test(compact)) return refuse(`${where}.auth`, 'is not valid base64');
    const decoded = Buffer.from(compact, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return refuse(`${where}.auth`, 'must be the base64 of user:password, and has no colon');
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const username = entry.username;
  const password = entry.password;
  if (typeof username === 'string' && typeof password === 'string') return { username, password };
  if (typeof username === 'string') return refuse(where, 'has a username and no password');
  if (typeof password === 'string') return refuse(where, 'has a password and no username');
  return null;
}

function helperName(value: unknown, where: string, refuse: Refuse): string {
  if (typeof value !== 'string' || !HELPER_NAME.test(value)) {
    const got = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value;
    return refuse(where, `must name a credential helper (docker-credential-<name> on PATH), got ${got}`);
  }
  return value;
}

function optionalObject(raw: Record<string, unknown>, key: string, refuse: Refuse): Record<string, unknown> {
  const value = raw[key];
  if (value === undefined || value === null) return {};
  if (!isObject(value)) return refuse(key, 'must be an object');
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

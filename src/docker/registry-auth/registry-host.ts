import { normalizeImageReference } from '../image-reference.js';

/** The key Docker's CLI files Docker Hub's credentials under, and asks credential helpers for. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** Host names that all mean Docker Hub in a config file written by hand or by older tools. */
const DOCKER_HUB_HOSTS: ReadonlySet<string> = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * The registry an image is pulled from, as Docker resolves the reference: `127.0.0.1:5001/x/y:tag`
 * → `127.0.0.1:5001`, `busybox` and `docker.io/library/busybox` → `docker.io`.
 */
export function registryHost(image: string): string {
  const normalized = normalizeImageReference(image);
  return normalized.slice(0, normalized.indexOf('/'));
}

/**
 * The server a registry's credentials are looked up as, in `auths`, `credHelpers` and a helper's
 * `get`: Docker Hub's legacy URL for Docker Hub, the host itself for every other registry.
 */
export function serverKey(host: string): string {
  return DOCKER_HUB_HOSTS.has(host) ? DOCKER_HUB_KEY : host;
}

/**
 * The host a config key names, as Docker's CLI reads legacy keys (ConvertToHostname): the scheme
 * and any path go, so `https://127.0.0.1:5001/v2/` is `127.0.0.1:5001`. Docker Hub's spellings
 * are all `docker.io`.
 */
export function hostOfKey(key: string): string {
  const host = key.replace(/^https?:\/\//, '').split('/')[0]!;
  return DOCKER_HUB_HOSTS.has(host) ? 'docker.io' : host;
}

/**
 * The entry of `entries` for a registry host: the exact key Docker's CLI writes first, else the
 * first key (in file order) that names the same host with a scheme or a path.
 */
export function entryFor<T>(entries: ReadonlyMap<string, T>, host: string): T | undefined {
  const exact = entries.get(serverKey(host));
  if (exact !== undefined) return exact;
  const wanted = hostOfKey(host);
  for (const [key, value] of entries) if (hostOfKey(key) === wanted) return value;
  return undefined;
}

import type { RegistryAuth } from '../docker-client.js';
import { registryHost } from './registry-host.js';

/** Docker's AuthConfig as its API takes it (base64 JSON in X-Registry-Auth). */
export type WireAuthConfig =
  | { readonly username: string; readonly password: string; readonly serveraddress: string }
  | { readonly identitytoken: string; readonly serveraddress: string };

export function toAuthConfig(auth: RegistryAuth): WireAuthConfig {
  return 'identityToken' in auth
    ? { identitytoken: auth.identityToken, serveraddress: auth.serverAddress }
    : { username: auth.username, password: auth.password, serveraddress: auth.serverAddress };
}

/** Docker's words for a registry's 401: no credentials sent, or credentials refused. */
const UNAUTHORIZED = /\bunauthorized\b|no basic auth credentials|authentication required/i;

/**
 * Docker reports a registry's 401 as a 500 whose message never says 401 ("no basic auth
 * credentials", "unauthorized: authentication required"). The reason a container stops with says
 * so, names the registry, and tells whether credentials were sent, so an operator knows whether to
 * add them or fix them. Any other refusal is Docker's message as it is.
 */
export function pullRefusalDetail(image: string, detail: string, authenticated: boolean): string {
  if (!UNAUTHORIZED.test(detail)) return detail;
  const how = authenticated ? 'to the credentials given for it' : 'to an anonymous pull (no credentials for it)';
  return `registry ${registryHost(image)} answered 401 Unauthorized ${how}: ${detail}`;
}

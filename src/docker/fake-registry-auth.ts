import type { RegistryAuth } from './docker-client.js';

/**
 * What Docker says when a registry that requires `user` answers a pull with 401 (undefined when
 * the pull may go on): its message for no credentials, and for credentials the registry refuses.
 */
export function registryRefusal(
  user: { readonly username: string; readonly password: string } | undefined,
  auth: RegistryAuth | undefined,
): string | undefined {
  if (!user) return undefined;
  if (!auth) return 'no basic auth credentials';
  const accepted = 'username' in auth && auth.username === user.username && auth.password === user.password;
  return accepted ? undefined : 'unauthorized: authentication required';
}

/**
 * The fleet's key layout in etcd, in one place (README "Fleet on etcd"):
 *   <prefix>/hosts/<host>/tasks/<name>   one task definition per key, JSON or YAML (the control plane writes)
 *   <prefix>/hosts/<host>/status/<arn>   the task's status, JSON (the host's agent writes)
 *   <prefix>/hosts/<host>/alive          the agent's liveness, under a lease (the host's agent writes)
 */
export function hostsPrefix(prefix: string): string {
  return `${trimSlash(prefix)}/hosts/`;
}

export function tasksPrefix(prefix: string, host: string): string {
  return `${hostsPrefix(prefix)}${host}/tasks/`;
}

export function statusPrefix(prefix: string, host: string): string {
  return `${hostsPrefix(prefix)}${host}/status/`;
}

export function statusKey(prefix: string, host: string, arn: string): string {
  return `${hostsPrefix(prefix)}${host}/status/${arn}`;
}

export function aliveKey(prefix: string, host: string): string {
  return `${hostsPrefix(prefix)}${host}/alive`;
}

/** Splits a key under hostsPrefix into its host and what follows (`tasks/…`, `status/…`, `alive`). */
export function hostKeyParts(prefix: string, key: string): { host: string; rest: string } | undefined {
  const base = hostsPrefix(prefix);
  if (!key.startsWith(base)) return undefined;
  const tail = key.slice(base.length);
  const slash = tail.indexOf('/');
  if (slash <= 0) return undefined;
  return { host: tail.slice(0, slash), rest: tail.slice(slash + 1) };
}

function trimSlash(prefix: string): string {
  return prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
}

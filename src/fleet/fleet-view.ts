import type { EtcdKv } from './etcd-client.js';
import { hostKeyParts } from './keys.js';

/** One host as the fleet's keys show it (`agent fleet ls`). */
export interface FleetHost {
  readonly host: string;
  /** The alive key is there: its lease is being renewed. */
  readonly alive: boolean;
  readonly agentId?: string;
  readonly version?: string;
  readonly startedAt?: string;
  /** tasks/ keys: what the control plane asked of the host. */
  readonly tasks: number;
  /** status/ keys by their knownStatus: what the host reports. */
  readonly statuses: Readonly<Record<string, number>>;
}

/** The hosts under `<prefix>/hosts/`, sorted by name, from one listing of it. */
export function fleetView(prefix: string, kvs: readonly EtcdKv[]): FleetHost[] {
  const hosts = new Map<string, { alive: boolean; agentId?: string; version?: string; startedAt?: string; tasks: number; statuses: Record<string, number> }>();
  for (const kv of kvs) {
    const parts = hostKeyParts(prefix, kv.key);
    if (!parts) continue;
    let h = hosts.get(parts.host);
    if (!h) hosts.set(parts.host, (h = { alive: false, tasks: 0, statuses: {} }));
    if (parts.rest === 'alive') {
      h.alive = true;
      const value = parseObject(kv.value);
      for (const field of ['agentId', 'version', 'startedAt'] as const) if (typeof value[field] === 'string') h[field] = value[field];
    } else if (parts.rest.startsWith('tasks/')) {
      h.tasks++;
    } else if (parts.rest.startsWith('status/')) {
      const status = parseObject(kv.value).knownStatus;
      const key = typeof status === 'string' ? status : 'UNREADABLE';
      h.statuses[key] = (h.statuses[key] ?? 0) + 1;
    }
  }
  return [...hosts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([host, h]) => ({ host, ...h }));
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

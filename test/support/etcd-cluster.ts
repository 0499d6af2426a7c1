import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

/** The test cluster of scripts/setup-etcd.sh: three members on loopback. */
export const ETCD_ENDPOINTS = ['http://127.0.0.1:23791', 'http://127.0.0.1:23792', 'http://127.0.0.1:23793'] as const;

const MEMBER_SCRIPT = join(import.meta.dirname, '../../scripts/etcd-member.sh');

/** Stops or starts member 1, 2 or 3 (its data is kept: a started member rejoins with it). */
export function etcdMember(action: 'stop' | 'start', n: 1 | 2 | 3): void {
  execFileSync('bash', [MEMBER_SCRIPT, action, String(n)], { stdio: 'pipe', timeout: 30_000 });
}

/** Whether every member answers healthy (etcdctl endpoint health). */
export function etcdHealthy(): boolean {
  try {
    execFileSync('etcdctl', ['--endpoints', ETCD_ENDPOINTS.join(','), 'endpoint', 'health'], { stdio: 'pipe', timeout: 10_000, env: { ...process.env, ETCDCTL_API: '3' } });
    return true;
  } catch {
    return false;
  }
}

/** A key prefix of its own for one test run, so runs and files never see each other's keys. */
export function runPrefix(): string {
  return `/berth-test/${randomUUID().slice(0, 8)}`;
}

/** Compacts the cluster's history up to `revision` (over the JSON gateway: no client of ours needed). */
export async function compactEtcd(revision: number): Promise<void> {
  const res = await fetch(`${ETCD_ENDPOINTS[0]}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: String(revision), physical: true }) });
  if (!res.ok) throw new Error(`compaction: HTTP ${res.status}`);
}

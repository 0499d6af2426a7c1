import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { EtcdClient } from '../../src/fleet/etcd-client.js';

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

/** The test CA and certificates scripts/setup-etcd.sh makes (server for 127.0.0.1, client, and a client of another CA). */
const TLS_DIR = process.env.BERTH_ETCD_TLS_DIR ?? '/var/lib/berth-test/etcd-tls';
export const ETCD_TLS = {
  ca: `${TLS_DIR}/ca.pem`,
  cert: `${TLS_DIR}/client-cert.pem`,
  key: `${TLS_DIR}/client-key.pem`,
  rogueCert: `${TLS_DIR}/rogue/client-cert.pem`,
  rogueKey: `${TLS_DIR}/rogue/client-key.pem`,
} as const;

/**
 * A one-member etcd of its own that serves clients over TLS only and requires a client certificate
 * of the test CA, on 127.0.0.1:23794, with its data in a temp dir. Resolves once it answers.
 */
export async function startTlsEtcd(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { spawn } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'berth-etcd-tls-'));
  const endpoint = 'https://127.0.0.1:23794';
  const proc = spawn('etcd', [
    '--name', 'tls', '--data-dir', dir,
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', 'http://127.0.0.1:23804', '--initial-advertise-peer-urls', 'http://127.0.0.1:23804',
    '--initial-cluster', 'tls=http://127.0.0.1:23804',
    '--cert-file', `${TLS_DIR}/server-cert.pem`, '--key-file', `${TLS_DIR}/server-key.pem`,
    '--client-cert-auth', '--trusted-ca-file', ETCD_TLS.ca, '--log-level', 'warn', '--logger', 'zap',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break;
    try {
      execFileSync('curl', ['-fsS', '-m', '2', '--cacert', ETCD_TLS.ca, '--cert', ETCD_TLS.cert, '--key', ETCD_TLS.key, `${endpoint}/health`], { stdio: 'pipe' });
      return { endpoint, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await stop();
  throw new Error(`the TLS etcd did not answer on ${endpoint} within 20 s:\n${output.slice(-2000)}`);
}

/** Deletes every key under `prefix`, so test runs leave nothing behind in the shared cluster. */
export async function removePrefix(client: Pick<EtcdClient, 'range' | 'delete'>, prefix: string): Promise<void> {
  const { kvs } = await client.range(prefix, { keysOnly: true });
  for (const kv of kvs) await client.delete(kv.key);
}

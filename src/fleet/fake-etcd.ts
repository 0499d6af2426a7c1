import { EtcdCompactedError, EtcdUnavailableError } from '../errors.js';
import type { Clock } from '../util/clock.js';
import type { EtcdClient, EtcdKv, EtcdWatch, RangeResult, WatchEvent, WatchHandler } from './etcd-client.js';

interface Watcher {
  readonly prefix: string;
  readonly handler: WatchHandler;
}

interface Lease {
  readonly ttlSeconds: number;
  expiresAt: number;
  readonly keys: Set<string>;
}

/**
 * An in-memory etcd for unit tests: one revision counter, a history of events for watches,
 * compaction, leases that expire on the injected clock, and `down()`/`up()` to play an outage
 * (every call fails with EtcdUnavailableError and open watches break).
 */
export class FakeEtcd implements EtcdClient {
  private readonly kvs = new Map<string, EtcdKv>();
  private readonly history: { revision: number; event: WatchEvent }[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly leases = new Map<string, Lease>();
  private revision = 1;
  private compacted = 0;
  private nextLease = 1;
  private isDown = false;
  /** Every successful put, for tests that count writes. */
  readonly puts: { key: string; value: string }[] = [];

  constructor(private readonly clock: Clock) {}

  down(): void {
    this.isDown = true;
    for (const w of [...this.watchers]) {
      this.watchers.delete(w);
      w.handler.onError(new EtcdUnavailableError('fake etcd is down'));
    }
  }

  up(): void {
    this.isDown = false;
  }

  /** Drops history up to and including `revision` (etcd's compaction). */
  compact(revision: number = this.revision): void {
    this.compacted = revision;
    while (this.history.length > 0 && this.history[0]!.revision <= revision) this.history.shift();
    // A watcher still waiting for events is not affected by compaction, as in etcd.
  }

  /** What is stored, for assertions. */
  get(key: string): string | undefined {
    this.expireLeases();
    return this.kvs.get(key)?.value;
  }

  currentRevision(): number {
    return this.revision;
  }

  async range(prefix: string, options: { keysOnly?: boolean } = {}): Promise<RangeResult> {
    this.ensureUp();
    this.expireLeases();
    const kvs = [...this.kvs.values()]
      .filter((kv) => kv.key.startsWith(prefix))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((kv) => (options.keysOnly ? { ...kv, value: '' } : kv));
    return { kvs, revision: this.revision };
  }

  watch(prefix: string, fromRevision: number, handler: WatchHandler): EtcdWatch {
    const watcher: Watcher = { prefix, handler };
    queueMicrotask(() => {
      if (this.isDown) return handler.onError(new EtcdUnavailableError('fake etcd is down'));
      if (fromRevision <= this.compacted) return handler.onError(new EtcdCompactedError(this.compacted));
      const past = this.history.filter((h) => h.revision >= fromRevision && keyOf(h.event).startsWith(prefix)).map((h) => h.event);
      if (past.length > 0) handler.onEvents(past);
      this.watchers.add(watcher);
    });
    return { cancel: () => void this.watchers.delete(watcher) };
  }

  async put(key: string, value: string, options: { lease?: string } = {}): Promise<number> {
    this.ensureUp();
    this.expireLeases();
    if (options.lease !== undefined) {
      const lease = this.leases.get(options.lease);
      if (!lease) throw new Error(`etcdserver: requested lease not found`);
      lease.keys.add(key);
    }
    this.revision += 1;
    const kv: EtcdKv = { key, value, modRevision: this.revision, ...(options.lease ? { lease: options.lease } : {}) };
    this.kvs.set(key, kv);
    this.puts.push({ key, value });
    this.publish({ type: 'put', kv });
    return this.revision;
  }

  async delete(key: string): Promise<number> {
    this.ensureUp();
    this.expireLeases();
    return this.remove(key);
  }

  async grantLease(ttlSeconds: number): Promise<string> {
    this.ensureUp();
    const id = String(this.nextLease++);
    this.leases.set(id, { ttlSeconds, expiresAt: this.clock.now() + ttlSeconds * 1000, keys: new Set() });
    return id;
  }

  async keepAlive(lease: string): Promise<number> {
    this.ensureUp();
    this.expireLeases();
    const l = this.leases.get(lease);
    if (!l) return 0;
    l.expiresAt = this.clock.now() + l.ttlSeconds * 1000;
    return l.ttlSeconds;
  }

  async revokeLease(lease: string): Promise<void> {
    this.ensureUp();
    this.dropLease(lease);
  }

  async status(): Promise<{ version: string; revision: number }> {
    this.ensureUp();
    return { version: 'fake', revision: this.revision };
  }

  async close(): Promise<void> {
    this.watchers.clear();
  }

  private remove(key: string): number {
    if (!this.kvs.delete(key)) return 0;
    this.revision += 1;
    this.publish({ type: 'delete', key, modRevision: this.revision });
    return 1;
  }

  private publish(event: WatchEvent): void {
    this.history.push({ revision: this.revision, event });
    for (const w of this.watchers) if (keyOf(event).startsWith(w.prefix)) w.handler.onEvents([event]);
  }

  private expireLeases(): void {
    for (const [id, lease] of this.leases) if (lease.expiresAt <= this.clock.now()) this.dropLease(id);
  }

  private dropLease(id: string): void {
    const lease = this.leases.get(id);
    if (!lease) return;
    this.leases.delete(id);
    for (const key of lease.keys) if (this.kvs.get(key)?.lease === id) this.remove(key);
  }

  private ensureUp(): void {
    if (this.isDown) throw new EtcdUnavailableError('fake etcd is down');
  }
}

function keyOf(event: WatchEvent): string {
  return event.type === 'put' ? event.kv.key : event.key;
}

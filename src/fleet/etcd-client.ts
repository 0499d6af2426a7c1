/**
 * The etcd port: the few etcd v3 calls the fleet needs, in our own types. Only
 * etcd-gateway-client.ts speaks to a real etcd; fake-etcd.ts is the in-memory one for unit tests,
 * and test/contract/etcd-client.contract.ts holds both to the same behaviour.
 *
 * Failures are typed (src/errors.ts): EtcdUnavailableError when no endpoint answers, and
 * EtcdCompactedError when a watch starts below the compacted revision.
 */
export interface EtcdClient {
  /** Every key under `prefix` (keys sorted), with the store's revision the listing was read at. */
  range(prefix: string, options?: { readonly keysOnly?: boolean }): Promise<RangeResult>;
  /**
   * Events under `prefix` from `fromRevision` on (inclusive). The watch ends at the first error,
   * given once to `onError` (EtcdCompactedError, EtcdUnavailableError); the caller resumes or re-lists.
   */
  watch(prefix: string, fromRevision: number, handler: WatchHandler): EtcdWatch;
  /** Returns the revision the put made. */
  put(key: string, value: string, options?: { readonly lease?: string }): Promise<number>;
  /** Deletes one key; returns how many keys it removed (0 or 1). */
  delete(key: string): Promise<number>;
  /** A lease of `ttlSeconds`; its id as decimal text (etcd ids are 64-bit). */
  grantLease(ttlSeconds: number): Promise<string>;
  /** Renews the lease; resolves with its remaining TTL in seconds, 0 when it has expired (lost). */
  keepAlive(lease: string): Promise<number>;
  revokeLease(lease: string): Promise<void>;
  /** One member's answer: its version and the store's current revision. */
  status(): Promise<{ readonly version: string; readonly revision: number }>;
  close(): Promise<void>;
}

export interface EtcdKv {
  readonly key: string;
  readonly value: string;
  readonly modRevision: number;
  /** The lease the key is attached to, when one. */
  readonly lease?: string;
}

export interface RangeResult {
  readonly kvs: readonly EtcdKv[];
  readonly revision: number;
}

export type WatchEvent =
  | { readonly type: 'put'; readonly kv: EtcdKv }
  | { readonly type: 'delete'; readonly key: string; readonly modRevision: number };

export interface WatchHandler {
  /** Events of one revision or more, in order. */
  onEvents(events: readonly WatchEvent[]): void;
  onError(error: unknown): void;
}

export interface EtcdWatch {
  cancel(): void;
}

/** The end of a prefix range: the prefix with its last byte incremented, as etcd's clients compute it. */
export function prefixEnd(prefix: string): Buffer {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i]! += 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

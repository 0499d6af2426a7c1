import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EtcdCompactedError } from '../../src/errors.js';
import type { EtcdClient, WatchEvent } from '../../src/fleet/etcd-client.js';

export interface EtcdUnderTest {
  client: EtcdClient;
  /** A prefix no other test uses. */
  prefix: string;
  /** Compacts the store's history up to `revision`. */
  compact(revision: number): Promise<void>;
  cleanup(): Promise<void>;
}

/** Resolves once `check` holds; polls without fixed sleeps standing in for a condition. */
async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What every EtcdClient (the fake, the JSON gateway on a real cluster) must do alike. */
export function etcdClientContract(name: string, make: () => Promise<EtcdUnderTest>): void {
  describe(`EtcdClient contract: ${name}`, () => {
    let t: EtcdUnderTest;
    beforeEach(async () => {
      t = await make();
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('lists the keys under a prefix, sorted, with the revision read at, and nothing outside it', async () => {
      await t.client.put(`${t.prefix}b`, 'two');
      const rev = await t.client.put(`${t.prefix}a`, 'one');
      await t.client.put(`${t.prefix.slice(0, -1)}x`, 'outside');
      const listed = await t.client.range(t.prefix);
      expect(listed.kvs.map((kv) => [kv.key, kv.value])).toEqual([[`${t.prefix}a`, 'one'], [`${t.prefix}b`, 'two']]);
      expect(listed.revision).toBeGreaterThanOrEqual(rev + 1);
      expect(listed.kvs[0]!.modRevision).toBe(rev);
      const keys = await t.client.range(t.prefix, { keysOnly: true });
      expect(keys.kvs.map((kv) => kv.key)).toEqual([`${t.prefix}a`, `${t.prefix}b`]);
    });

    it('keeps values byte for byte (unicode, newlines, empty)', async () => {
      await t.client.put(`${t.prefix}u`, 'héllo\n{"a": [1]}');
      await t.client.put(`${t.prefix}e`, '');
      const listed = await t.client.range(t.prefix);
      expect(Object.fromEntries(listed.kvs.map((kv) => [kv.key.slice(t.prefix.length), kv.value]))).toEqual({ u: 'héllo\n{"a": [1]}', e: '' });
    });

    it('watches from a revision: puts and deletes in order, past ones included', async () => {
      const start = (await t.client.range(t.prefix)).revision + 1;
      await t.client.put(`${t.prefix}a`, '1');
      const events: WatchEvent[] = [];
      const errors: unknown[] = [];
      const w = t.client.watch(t.prefix, start, { onEvents: (e) => events.push(...e), onError: (e) => errors.push(e) });
      await until(() => events.length >= 1, 'the past put');
      await t.client.put(`${t.prefix}a`, '2');
      const deletedAt = (await t.client.delete(`${t.prefix}a`), (await t.client.range(t.prefix)).revision);
      await until(() => events.length >= 3, 'three events');
      w.cancel();
      expect(events.map((e) => (e.type === 'put' ? `put ${e.kv.key.slice(t.prefix.length)}=${e.kv.value}` : `delete ${e.key.slice(t.prefix.length)}`))).toEqual([
        'put a=1',
        'put a=2',
        'delete a',
      ]);
      expect(events[2]!.type === 'delete' && events[2]!.modRevision).toBe(deletedAt);
      expect(errors).toEqual([]);
    });

    it('signals a watch below the compacted revision as EtcdCompactedError', async () => {
      const first = await t.client.put(`${t.prefix}a`, '1');
      const second = await t.client.put(`${t.prefix}a`, '2');
      await t.client.put(`${t.prefix}a`, '3');
      await t.compact(second);
      const errors: unknown[] = [];
      t.client.watch(t.prefix, first, { onEvents: () => undefined, onError: (e) => errors.push(e) });
      await until(() => errors.length > 0, 'the compaction error');
      expect(errors[0]).toBeInstanceOf(EtcdCompactedError);
      expect((errors[0] as EtcdCompactedError).compactRevision).toBeGreaterThanOrEqual(second);
    });

    it('deletes one key and says whether there was one', async () => {
      await t.client.put(`${t.prefix}a`, '1');
      expect(await t.client.delete(`${t.prefix}a`)).toBe(1);
      expect(await t.client.delete(`${t.prefix}a`)).toBe(0);
      expect((await t.client.range(t.prefix)).kvs).toEqual([]);
    });

    it('attaches a key to a lease, renews it, and removes the key when the lease is revoked', async () => {
      const lease = await t.client.grantLease(30);
      await t.client.put(`${t.prefix}alive`, 'yes', { lease });
      expect((await t.client.range(t.prefix)).kvs[0]!.lease).toBe(lease);
      expect(await t.client.keepAlive(lease)).toBeGreaterThan(0);
      await t.client.revokeLease(lease);
      expect((await t.client.range(t.prefix)).kvs).toEqual([]);
      expect(await t.client.keepAlive(lease)).toBe(0);
    });

    it('reports the store revision in status', async () => {
      const rev = await t.client.put(`${t.prefix}a`, '1');
      const status = await t.client.status();
      expect(status.revision).toBeGreaterThanOrEqual(rev);
      expect(status.version).not.toBe('');
    });
  });
}

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Alive } from '../../../src/fleet/alive.js';
import { EtcdLink } from '../../../src/fleet/etcd-link.js';
import { FakeEtcd } from '../../../src/fleet/fake-etcd.js';
import { silentLogger } from '../../../src/log/logger.js';
import { systemClock } from '../../../src/util/clock.js';

const KEY = '/berth/hosts/h1/alive';
const VALUE = { agentId: 'agent-1', version: '0.1.0', startedAt: '2026-01-01T00:00:00.000Z' };

describe('Alive', () => {
  let etcd: FakeEtcd;
  let alive: Alive;
  let link: EtcdLink;

  beforeEach(() => {
    vi.useFakeTimers();
    etcd = new FakeEtcd(systemClock);
    link = new EtcdLink(systemClock);
    alive = new Alive({ client: etcd, prefix: '/berth', host: 'h1', clock: systemClock, ttlSeconds: 9, value: VALUE, log: silentLogger(), link });
  });
  afterEach(async () => {
    await alive.stop();
    vi.useRealTimers();
  });

  it('puts the alive key (agentId, version, startedAt) under a lease and keeps it past many TTLs', async () => {
    await alive.start();
    expect(JSON.parse(etcd.get(KEY)!)).toEqual(VALUE);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(etcd.get(KEY)).toBeDefined();
    expect(etcd.puts.filter((p) => p.key === KEY)).toHaveLength(1);
  });

  it('the key vanishes within the TTL once renewals stop (the agent died)', async () => {
    await alive.start();
    const lease = alive.currentLease()!;
    etcd.down();
    await vi.advanceTimersByTimeAsync(9_000);
    etcd.up();
    expect(etcd.get(KEY)).toBeUndefined();
    expect(await etcd.keepAlive(lease)).toBe(0);
  });

  it('after a lost lease (etcd away longer than the TTL) grants a new one and puts the key again', async () => {
    await alive.start();
    const first = alive.currentLease();
    etcd.down();
    await vi.advanceTimersByTimeAsync(12_000);
    expect(link.up()).toBe(false);
    etcd.up();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(alive.currentLease()).not.toBe(first);
    expect(JSON.parse(etcd.get(KEY)!)).toEqual(VALUE);
    expect(link.up()).toBe(true);
  });

  it('a start while etcd is down does not fail; the key appears once etcd answers', async () => {
    etcd.down();
    await alive.start();
    expect(etcd.get(KEY)).toBeUndefined();
    etcd.up();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(etcd.get(KEY)).toBeDefined();
  });

  it('a clean stop revokes the lease: the host is gone at once', async () => {
    await alive.start();
    await alive.stop();
    expect(etcd.get(KEY)).toBeUndefined();
  });
});

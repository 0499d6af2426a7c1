import { describe, expect, it } from 'vitest';
import { EtcdUnavailableError } from '../../../src/errors.js';
import { FakeEtcd } from '../../../src/fleet/fake-etcd.js';
import { systemClock } from '../../../src/util/clock.js';
import { etcdClientContract } from '../../contract/etcd-client.contract.js';

const clock = systemClock;

etcdClientContract('fake', async () => {
  const fake = new FakeEtcd(clock);
  return { client: fake, prefix: '/test/', compact: async (rev) => fake.compact(rev), cleanup: () => fake.close() };
});

describe('FakeEtcd outages', () => {
  it('fails every call and breaks open watches while down, and answers again once up', async () => {
    const fake = new FakeEtcd(clock);
    const errors: unknown[] = [];
    fake.watch('/p/', 1, { onEvents: () => undefined, onError: (e) => errors.push(e) });
    await Promise.resolve();
    fake.down();
    expect(errors[0]).toBeInstanceOf(EtcdUnavailableError);
    await expect(fake.put('/p/a', '1')).rejects.toBeInstanceOf(EtcdUnavailableError);
    fake.up();
    await expect(fake.put('/p/a', '1')).resolves.toBeGreaterThan(0);
  });
});

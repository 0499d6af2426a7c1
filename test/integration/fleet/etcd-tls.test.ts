import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdUnavailableError } from '../../../src/errors.js';
import { gatewayClient } from '../../../src/fleet/etcd-gateway-client.js';
import { etcdClientContract } from '../../contract/etcd-client.contract.js';
import { ETCD_TLS, runPrefix, startTlsEtcd } from '../../support/etcd-cluster.js';

let tlsEtcd: Awaited<ReturnType<typeof startTlsEtcd>>;
beforeAll(async () => {
  tlsEtcd = await startTlsEtcd();
});
afterAll(async () => {
  await tlsEtcd?.stop();
});

/** The port has no compaction (the agent never compacts): the contract's set-up calls the gateway itself. */
const compactOver = (tls: { ca: string; cert: string; key: string }) => async (revision: number) => {
  await new Promise<void>((resolve, reject) => {
    const req = request(`${tlsEtcd.endpoint}/v3/kv/compaction`, { method: 'POST', ca: readFileSync(tls.ca), cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`compaction: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ revision: String(revision), physical: true }));
  });
};

etcdClientContract('JSON gateway over TLS with a client certificate', async () => {
  const tls = { ca: ETCD_TLS.ca, cert: ETCD_TLS.cert, key: ETCD_TLS.key };
  const client = gatewayClient({ endpoints: [tlsEtcd.endpoint], tls });
  return { client, prefix: `${runPrefix()}/`, compact: compactOver(tls), cleanup: () => client.close() };
});

describe('etcd over TLS', () => {
  it('is refused without a client certificate, and with one of another CA', async () => {
    for (const tls of [{ ca: ETCD_TLS.ca }, { ca: ETCD_TLS.ca, cert: ETCD_TLS.rogueCert, key: ETCD_TLS.rogueKey }]) {
      const client = gatewayClient({ endpoints: [tlsEtcd.endpoint], tls });
      const error = await client.status().catch((e: unknown) => e);
      await client.close();
      expect(error).toBeInstanceOf(EtcdUnavailableError);
      expect((error as Error).message).toContain(tlsEtcd.endpoint);
    }
  });
});

import { gatewayClient } from '../../../src/fleet/etcd-gateway-client.js';
import { etcdClientContract } from '../../contract/etcd-client.contract.js';
import { compactEtcd, ETCD_ENDPOINTS, removePrefix, runPrefix } from '../../support/etcd-cluster.js';

etcdClientContract('JSON gateway on the three-member test cluster', async () => {
  const client = gatewayClient({ endpoints: [...ETCD_ENDPOINTS] });
  const prefix = `${runPrefix()}/`;
  return {
    client,
    prefix,
    compact: compactEtcd,
    cleanup: async () => {
      // The contract also writes one key just outside its prefix.
      await removePrefix(client, prefix.slice(0, -1));
      await client.close();
    },
  };
});

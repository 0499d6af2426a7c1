import { gatewayClient } from '../../../src/fleet/etcd-gateway-client.js';
import { etcdClientContract } from '../../contract/etcd-client.contract.js';
import { compactEtcd, ETCD_ENDPOINTS, runPrefix } from '../../support/etcd-cluster.js';

etcdClientContract('JSON gateway on the three-member test cluster', async () => {
  const client = gatewayClient({ endpoints: [...ETCD_ENDPOINTS] });
  return { client, prefix: `${runPrefix()}/`, compact: compactEtcd, cleanup: () => client.close() };
});

import { randomBytes } from 'node:crypto';
import { DockerodeClient } from '../../../src/docker/dockerode-client.js';
import { describeStatsContract } from '../../contract/stats.contract.js';

const IMAGE = process.env.BERTH_TEST_IMAGE ?? '127.0.0.1:5000/berth/busybox:latest';
const LABELS = { 'berth.test-run': `stats-${randomBytes(6).toString('hex')}` };
const client = new DockerodeClient({ socketPath: '/var/run/docker.sock', timeoutMs: 30_000, pullTimeoutMs: 120_000 });

describeStatsContract('DockerodeClient on the real engine', () => ({
  client,
  image: IMAGE,
  labels: LABELS,
  cleanup: async () => {
    for (const c of await client.listContainers(LABELS)) {
      await client.stopContainer(c.id, 0);
      await client.removeContainer(c.id);
    }
  },
}));

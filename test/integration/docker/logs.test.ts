import { randomBytes } from 'node:crypto';
import { DockerodeClient } from '../../../src/docker/dockerode-client.js';
import { describeLogsContract } from '../../contract/logs.contract.js';

const IMAGE = process.env.BERTH_TEST_IMAGE ?? '127.0.0.1:5000/berth/busybox:latest';
const LABELS = { 'berth.test-run': `logs-${randomBytes(6).toString('hex')}` };
const client = new DockerodeClient({ socketPath: '/var/run/docker.sock', timeoutMs: 30_000, pullTimeoutMs: 120_000 });

// Writes, then waits for SIGTERM, whose trap writes the farewell: output after a follow began.
const SCRIPT = "trap 'echo bye; exit 0' TERM; echo first; echo oops >&2; while :; do sleep 0.1; done";

describeLogsContract('DockerodeClient on the real engine', () => ({
  client,
  image: IMAGE,
  labels: LABELS,
  start: async (spec) => {
    await client.pullImage(IMAGE);
    const id = await client.createContainer({ ...spec, entryPoint: ['/bin/sh', '-c'], command: [SCRIPT] });
    await client.startContainer(id);
    return { id, farewell: () => client.stopContainer(id, 10) };
  },
  cleanup: async () => {
    for (const c of await client.listContainers(LABELS)) {
      await client.stopContainer(c.id, 0);
      await client.removeContainer(c.id);
    }
  },
}));

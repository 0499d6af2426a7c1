import { describe, expect, it } from 'vitest';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { describeStatsContract } from '../../contract/stats.contract.js';

const IMAGE = 'registry.test/berth/busybox:latest';

describeStatsContract('FakeDocker', () => ({
  client: new FakeDocker({ images: [IMAGE] }),
  image: IMAGE,
  labels: { 'berth.test-run': 'fake' },
  cleanup: async () => {},
}));

describe('FakeDocker stats controls', () => {
  it('setStats pins figures, the others keep moving; a restart counts CPU time from zero again', async () => {
    const fake = new FakeDocker({ images: [IMAGE] });
    await fake.pullImage(IMAGE);
    const id = await fake.createContainer({ name: 'stats-pinned', image: IMAGE, env: {}, labels: {}, portMappings: [], stopTimeout: 1 });
    await fake.startContainer(id);
    fake.setStats(id, { memoryUsageBytes: 123, network: { rxBytes: 5, txBytes: 6 } });
    const first = await fake.containerStats(id);
    const second = await fake.containerStats(id);
    expect(second).toMatchObject({ memoryUsageBytes: 123, network: { rxBytes: 5, txBytes: 6 } });
    expect(second.cpuTotalNs).toBeGreaterThan(first.cpuTotalNs);
    await fake.stopContainer(id, 0);
    await fake.startContainer(id);
    expect((await fake.containerStats(id)).cpuTotalNs).toBe(first.cpuTotalNs);
  });
});

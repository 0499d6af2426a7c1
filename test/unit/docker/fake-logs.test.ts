import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { describeLogsContract } from '../../contract/logs.contract.js';

const IMAGE = 'registry.test/berth/busybox:latest';
const fake = new FakeDocker({ images: [IMAGE] });

describeLogsContract('FakeDocker', () => ({
  client: fake,
  image: IMAGE,
  labels: { 'berth.test-run': 'fake' },
  start: async (spec) => {
    await fake.pullImage(IMAGE);
    const id = await fake.createContainer({ ...spec, command: ['sleep', '300'] });
    await fake.startContainer(id);
    fake.writeLogs(id, 'stdout', 'first\n');
    fake.writeLogs(id, 'stderr', 'oops\n');
    return {
      id,
      farewell: async () => {
        fake.writeLogs(id, 'stdout', 'bye\n');
        await fake.stopContainer(id, 10);
      },
    };
  },
  cleanup: async () => {},
}));

import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { describeRegistryAuthContract } from '../../contract/registry-auth.contract.js';

const IMAGE = 'private.test:5001/berth/private:latest';
const USER = { username: 'ann', password: 'Fake-Secret-3' };

describeRegistryAuthContract('FakeDocker', async () => ({
  image: IMAGE,
  host: 'private.test:5001',
  ...USER,
  fresh: async () => {
    const fake = new FakeDocker({ images: [IMAGE], registryUsers: { 'private.test:5001': USER } });
    return { client: fake, isLocal: async () => fake.hasImage(IMAGE) };
  },
}));

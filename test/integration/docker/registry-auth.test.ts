import { DockerodeClient } from '../../../src/docker/dockerode-client.js';
import { describeRegistryAuthContract } from '../../contract/registry-auth.contract.js';
import { AUTH_REGISTRY, forgetImage, isLocalImage } from '../../support/auth-registry.js';

describeRegistryAuthContract('DockerodeClient against the htpasswd registry', async () => {
  const client = new DockerodeClient({ socketPath: '/var/run/docker.sock', timeoutMs: 30_000, pullTimeoutMs: 120_000 });
  return {
    image: AUTH_REGISTRY.image,
    host: AUTH_REGISTRY.host,
    username: AUTH_REGISTRY.username,
    password: AUTH_REGISTRY.password,
    fresh: async () => {
      forgetImage(AUTH_REGISTRY.image);
      return { client, isLocal: async () => isLocalImage(AUTH_REGISTRY.image) };
    },
  };
});

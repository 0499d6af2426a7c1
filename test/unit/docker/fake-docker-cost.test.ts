import { describe, expect, it } from 'vitest';
import type { ContainerSpec } from '../../../src/docker/docker-client.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { IMAGE } from '../../support/fixtures.js';

function spec(i: number, overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name: `c${i}`,
    image: IMAGE,
    command: ['sleep', '300'],
    env: {},
    labels: { agent: 'a1', task: `t${i}` },
    portMappings: [{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' }],
    stopTimeout: 1,
    mounts: [{ type: 'volume', source: `v${i}`, target: '/data' }],
    ...overrides,
  } as ContainerSpec;
}

/** The fake's own work for one container's life (create, start, inspect by name, list by its task label, stop, remove) with `held` others running. */
async function costOfOne(held: number): Promise<{ work: number; listed: number }> {
  const docker = new FakeDocker({ images: [IMAGE] });
  await docker.pullImage(IMAGE);
  for (let i = 0; i < held; i++) await docker.startContainer(await docker.createContainer(spec(i)));
  const before = docker.work;
  const id = await docker.createContainer(spec(held));
  await docker.startContainer(id);
  await docker.inspectContainer(`c${held}`);
  const listed = (await docker.listContainers({ agent: 'a1', task: `t${held}` })).length;
  await docker.stopContainer(id, 1);
  await docker.removeContainer(id);
  await docker.removeVolume(`v${held}`);
  return { work: docker.work - before, listed };
}

describe('FakeDocker: each call costs the same however many containers it holds', () => {
  it('create, start, inspect by name, list by a label, stop and remove: the same work with 10 or 3,000 others held', async () => {
    const few = await costOfOne(10);
    const many = await costOfOne(3_000);
    expect(many.listed).toBe(1);
    expect(many.work).toBe(few.work);
  });
});

import { describe, expect, it } from 'vitest';
import type { ContainerState } from '../../../src/api/task.js';
import { adIdentifiers, imageName, servicesOf } from '../../../src/services/service-of.js';
import { fakeId, taskAt } from '../../support/fixtures.js';

const ID = fakeId('app');

/** The one container `app`, at `status`, with `extra` on its record and `definition` fields on its definition. */
function serviceFrom(status: ContainerState['knownStatus'], extra: Partial<ContainerState> = {}, definition: Partial<ContainerState['definition']> = {}) {
  const task = taskAt({ app: [status, extra] });
  const withDefinition = { ...task, containers: task.containers.map((c) => ({ ...c, definition: { ...c.definition, ...definition } })) };
  return servicesOf(withDefinition);
}

describe('servicesOf', () => {
  it('makes a running container a service with every field', () => {
    const [service, ...rest] = serviceFrom(
      'RUNNING',
      { networks: { bridge: { ipAddress: '172.17.0.5' }, backend: { ipAddress: '10.0.0.3' }, pending: {} }, pid: 4242, health: 'HEALTHY' },
      {
        image: '127.0.0.1:5000/berth/busybox:latest',
        portMappings: [
          { containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1' },
          { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 8000 },
          { containerPort: 80, protocol: 'udp', hostIp: '127.0.0.1' },
        ],
        labels: { team: 'web', 'app.kubernetes.io/name': 'shop' },
      },
    );
    expect(rest).toEqual([]);
    expect(service).toEqual({
      id: ID,
      adIdentifiers: [`docker://${ID}`, '127.0.0.1:5000/berth/busybox', 'busybox'],
      hosts: { backend: '10.0.0.3', bridge: '172.17.0.5' },
      ports: [80, 8080],
      tags: ['app.kubernetes.io/name:shop', 'team:web'],
      pid: 4242,
      health: 'HEALTHY',
      taskArn: 'arn:test:task/t1',
      family: 'web',
      containerName: 'app',
      image: '127.0.0.1:5000/berth/busybox:latest',
    });
  });

  it.each([
    ['NONE', {}],
    ['PULLED', {}],
    ['CREATED', {}],
    ['STOPPED', { dockerId: ID, exitCode: 0 }],
  ] as const)('leaves out a container at %s', (status, extra) => {
    expect(serviceFrom(status, extra)).toEqual([]);
  });

  it('has no pid, no hosts and UNKNOWN health before Docker reported them', () => {
    const [service] = serviceFrom('RUNNING');
    expect(service).toMatchObject({ hosts: {}, ports: [], tags: [], health: 'UNKNOWN' });
    expect(service).not.toHaveProperty('pid');
  });

  it('takes the berth.ad.id label over the default identifiers, and does not make it a tag', () => {
    const [service] = serviceFrom('RUNNING', {}, { labels: { 'berth.ad.id': 'redis, custom_redis,,redis', tier: 'cache' } });
    expect(service?.adIdentifiers).toEqual(['redis', 'custom_redis']);
    expect(service?.tags).toEqual(['tier:cache']);
  });

  it('lists each running container of a task, and only those', () => {
    const task = taskAt({ web: 'RUNNING', side: 'RUNNING', init: ['STOPPED', { dockerId: fakeId('init'), exitCode: 0 }] });
    expect(servicesOf(task).map((s) => s.containerName)).toEqual(['web', 'side']);
  });
});

describe('AD identifiers', () => {
  it.each([
    ['127.0.0.1:5000/berth/busybox:latest', '127.0.0.1:5000/berth/busybox', 'busybox'],
    ['redis', 'redis', 'redis'],
    ['redis:7', 'redis', 'redis'],
    ['localhost:5000/redis', 'localhost:5000/redis', 'redis'],
    ['docker.io/library/nginx@sha256:0123abcd', 'docker.io/library/nginx', 'nginx'],
    ['registry.test:5000/a/b/c:1.2@sha256:0123abcd', 'registry.test:5000/a/b/c', 'c'],
  ])('%s: long %s, short %s', (image, long, short) => {
    expect(imageName(image)).toBe(long);
    expect(adIdentifiers('abc', image, undefined)).toEqual([...new Set(['docker://abc', long, short])]);
  });

  it('an empty berth.ad.id label names nothing: the defaults stay', () => {
    expect(adIdentifiers('abc', 'redis:7', ' , ')).toEqual(['docker://abc', 'redis']);
  });
});

import { describe, expect, it } from 'vitest';
import type { ContainerState } from '../../../../src/api/task.js';
import { metadataFileOf, renderMetadataFile } from '../../../../src/engine/metadata/metadata-file.js';
import { metadataLocation, taskDirName } from '../../../../src/engine/metadata/metadata-location.js';
import { fakeId, IMAGE, taskAt } from '../../../support/fixtures.js';

/* The file's content from the saved state: each row a container's record and the fields it gives. */

const settings = { cluster: 'prod' };
const running: Partial<ContainerState> = {
  dockerId: fakeId('app'),
  imageId: 'sha256:abc',
  imageDigest: 'sha256:def',
  portBindings: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1' }],
  networks: { bridge: { ipAddress: '172.17.0.5' } },
  startedAt: 2_000,
};

describe('metadataFileOf', () => {
  it('names the task and container as ECS does, before anything is known of Docker', () => {
    const task = taskAt({ app: 'PULLED' });
    const c = task.containers[0]!;
    expect(metadataFileOf(settings, task, c)).toEqual({
      Cluster: 'prod',
      TaskARN: 'arn:test:task/t1',
      TaskDefinitionFamily: 'web',
      TaskDefinitionRevision: '1',
      ContainerName: 'app',
      DockerContainerName: `/${c.dockerName}`,
      ImageName: IMAGE,
      MetadataFileStatus: 'PENDING',
    });
  });

  it('gives the Docker ID, image, ports and networks, READY once running with its networks', () => {
    const task = taskAt({ app: ['RUNNING', running] });
    expect(metadataFileOf(settings, task, task.containers[0]!)).toMatchObject({
      ContainerID: fakeId('app'),
      ImageID: 'sha256:abc',
      ImageDigest: 'sha256:def',
      PortMappings: [{ ContainerPort: 80, HostPort: 8080, BindIp: '127.0.0.1', Protocol: 'tcp' }],
      Networks: [{ NetworkMode: 'bridge', IPv4Addresses: ['172.17.0.5'] }],
      MetadataFileStatus: 'READY',
    });
  });

  it.each<[string, Parameters<typeof taskAt>[0]['x'], 'PENDING' | 'READY']>([
    ['created', ['CREATED', { ...running, networks: undefined, startedAt: undefined }], 'PENDING'],
    ['running, networks not read yet', ['RUNNING', { ...running, networks: undefined }], 'PENDING'],
    ['running with its networks', ['RUNNING', running], 'READY'],
    ['stopped after running: the last full record', ['STOPPED', running], 'READY'],
    ['stopped without ever running', ['STOPPED', { dockerId: fakeId('x') }], 'PENDING'],
    ['a restarted incarnation not running yet', ['CREATED', { ...running, restartCount: 1 }], 'PENDING'],
  ])('status when %s', (_, record, status) => {
    const task = taskAt({ x: record });
    expect(metadataFileOf(settings, task, task.containers[0]!).MetadataFileStatus).toBe(status);
  });

  it('lists networks by name, without addresses where Docker gave none', () => {
    const task = taskAt({ app: ['RUNNING', { ...running, networks: { zeta: { ipAddress: '10.0.0.2' }, host: {} } }] });
    expect(metadataFileOf(settings, task, task.containers[0]!).Networks).toEqual([{ NetworkMode: 'host' }, { NetworkMode: 'zeta', IPv4Addresses: ['10.0.0.2'] }]);
  });

  it('renders the same record to the same bytes', () => {
    const task = taskAt({ app: ['RUNNING', running] });
    const file = metadataFileOf(settings, task, task.containers[0]!);
    expect(renderMetadataFile(file)).toBe(renderMetadataFile(JSON.parse(JSON.stringify(file)) as typeof file));
    expect(renderMetadataFile(file).endsWith('}\n')).toBe(true);
  });
});

describe('metadataLocation', () => {
  it('puts each container in a directory of its own, mounted at /opt/ecs/metadata/<task>', () => {
    const at = metadataLocation('/data/metadata', 'arn:aws:ecs:us-east-1:1:task/prod/abc123', 'web');
    const task = taskDirName('arn:aws:ecs:us-east-1:1:task/prod/abc123');
    expect(task).toMatch(/^abc123-[0-9a-f]{8}$/);
    expect(at).toEqual({
      hostDir: `/data/metadata/${task}/web`,
      hostFile: `/data/metadata/${task}/web/ecs-container-metadata.json`,
      containerDir: `/opt/ecs/metadata/${task}`,
      containerFile: `/opt/ecs/metadata/${task}/ecs-container-metadata.json`,
    });
  });

  it.each([
    ['arn:berth:task/web:3', /^web-3-[0-9a-f]{8}$/],
    ['arn:x/..', /^task-[0-9a-f]{8}$/],
    ['arn:x/.hidden', /^hidden-[0-9a-f]{8}$/],
  ])('makes %s safe for a path', (arn, pattern) => {
    expect(taskDirName(arn)).toMatch(pattern);
  });

  it('keeps tasks whose ids look alike apart', () => {
    expect(taskDirName('arn:a/x')).not.toBe(taskDirName('arn:b/x'));
    expect(taskDirName('arn:a/web:3')).not.toBe(taskDirName('arn:a/web-3'));
  });
});

import { describe, expect, it } from 'vitest';
import { dockerVolumeName } from '../../../src/api/labels.js';
import type { ContainerDefinition, TaskDefinition, TaskState } from '../../../src/api/task.js';
import { containerSpec } from '../../../src/engine/container-spec.js';
import { newTaskState } from '../../../src/engine/task-state.js';
import { metadataLocation } from '../../../src/engine/metadata/metadata-location.js';
import { AGENT_ID, containerDef, fakeId, taskDef } from '../../support/fixtures.js';

/* The one translation from the model to the Docker port: each row a definition and what Docker is asked for. */

const MIB = 1024 * 1024;

function specFor(fields: Partial<ContainerDefinition>, task: Partial<TaskDefinition> = {}, others: ContainerDefinition[] = []) {
  const state: TaskState = newTaskState(taskDef('arn:test:task/spec', [...others, containerDef('app', fields)], task), 1, AGENT_ID);
  const withIds = { ...state, containers: state.containers.map((c) => ({ ...c, dockerId: fakeId(c.definition.name) })) };
  return containerSpec(withIds, withIds.containers.at(-1)!, AGENT_ID);
}

describe('containerSpec', () => {
  it.each<[string, Partial<ContainerDefinition>, Record<string, unknown>]>([
    ['the cpu shares always', {}, { cpuShares: 2 }],
    ['memory limits in bytes', { memory: 64, memoryReservation: 32 }, { memoryBytes: 64 * MIB, memoryReservationBytes: 32 * MIB }],
    [
      'a health check in milliseconds',
      { healthCheck: { command: ['CMD-SHELL', 'true'], interval: 5, timeout: 2, retries: 3, startPeriod: 10 } },
      { healthCheck: { test: ['CMD-SHELL', 'true'], intervalMs: 5000, timeoutMs: 2000, retries: 3, startPeriodMs: 10_000 } },
    ],
    ['process settings', { user: 'nobody', workingDirectory: '/var', hostname: 'box', interactive: true, pseudoTerminal: true }, { user: 'nobody', workingDir: '/var', hostname: 'box', openStdin: true, tty: true }],
    ['filesystem and security', { readonlyRootFilesystem: true, privileged: true, dockerSecurityOptions: ['no-new-privileges'] }, { readonlyRootfs: true, privileged: true, securityOpt: ['no-new-privileges'] }],
    ['kernel parameters and ulimits', { systemControls: { 'net.core.somaxconn': '1024' }, ulimits: [{ name: 'nofile', softLimit: 123, hardLimit: 234 }] }, { sysctls: { 'net.core.somaxconn': '1024' }, ulimits: [{ name: 'nofile', soft: 123, hard: 234 }] }],
    ['dns and hosts', { dnsServers: ['1.2.3.4'], dnsSearchDomains: ['example.test'], extraHosts: [{ hostname: 'test.local', ipAddress: '127.10.10.10' }] }, { dns: ['1.2.3.4'], dnsSearch: ['example.test'], extraHosts: ['test.local:127.10.10.10'] }],
    ['networking disabled', { disableNetworking: true }, { networkDisabled: true }],
    [
      'linux parameters',
      {
        memory: 100,
        linuxParameters: {
          initProcessEnabled: true,
          sharedMemorySize: 100,
          tmpfs: [{ containerPath: '/dev/tmpfs', size: 100, mountOptions: ['ro', 'noexec'] }],
          capabilities: { add: ['SYS_ADMIN'], drop: ['MKNOD'] },
          devices: [{ hostPath: '/dev/null', containerPath: '/dev/sda', permissions: ['read'] }],
          maxSwap: 50,
          swappiness: 10,
        },
      },
      {
        init: true,
        shmSizeBytes: 100 * MIB,
        tmpfs: { '/dev/tmpfs': 'size=100m,ro,noexec' },
        capAdd: ['SYS_ADMIN'],
        capDrop: ['MKNOD'],
        devices: [{ hostPath: '/dev/null', containerPath: '/dev/sda', permissions: 'r' }],
        memorySwapBytes: 150 * MIB,
        memorySwappiness: 10,
      },
    ],
    ['a log driver passed through', { logConfiguration: { logDriver: 'json-file', options: { 'max-size': '50k' } } }, { logConfig: { type: 'json-file', config: { 'max-size': '50k' } } }],
    [
      "ECS's awslogs stream prefix, which Docker does not know, as the stream ECS would name",
      { logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g', 'awslogs-stream-prefix': 'web' } } },
      { logConfig: { type: 'awslogs', config: { 'awslogs-group': 'g', 'awslogs-stream': 'web/app/spec' } } },
    ],
  ])('%s', (_name, fields, expected) => {
    expect(specFor(fields)).toMatchObject(expected);
  });

  it('leaves out what is not set, so Docker keeps its defaults', () => {
    const spec = specFor({});
    for (const key of ['healthCheck', 'user', 'memoryBytes', 'tmpfs', 'devices', 'links', 'mounts', 'pidMode', 'ipcMode', 'logConfig', 'privileged']) {
      expect(spec).not.toHaveProperty(key);
    }
  });

  it('links and volumesFrom name the other containers as Docker knows them', () => {
    const db = containerDef('db');
    const spec = specFor({ links: ['db:database', 'db'], volumesFrom: [{ sourceContainer: 'db', readOnly: true }] }, {}, [db]);
    const dbName = newTaskState(taskDef('arn:test:task/spec', [db, containerDef('app')]), 1, AGENT_ID).containers[0]!.dockerName;
    expect(spec.links).toEqual([`${dbName}:database`, `${dbName}:db`]);
    expect(spec.volumesFrom).toEqual([{ container: fakeId('db'), readOnly: true }]);
  });

  it('a task namespace: the first container owns it (IPC shareable), the others join it', () => {
    const owner = containerDef('first');
    const spec = specFor({}, { pidMode: 'task', ipcMode: 'task' }, [owner]);
    expect(spec).toMatchObject({ pidMode: `container:${fakeId('first')}`, ipcMode: `container:${fakeId('first')}` });
    const state = newTaskState(taskDef('arn:test:task/spec', [owner, containerDef('app')], { pidMode: 'task', ipcMode: 'task' }), 1, AGENT_ID);
    const ownSpec = containerSpec(state, state.containers[0]!, AGENT_ID);
    expect(ownSpec.ipcMode).toBe('shareable');
    expect(ownSpec).not.toHaveProperty('pidMode');
  });

  it('host and none networking publish no ports; bridge keeps them', () => {
    const portMappings = [{ containerPort: 80, protocol: 'tcp' as const, hostIp: '127.0.0.1' }];
    expect(specFor({ portMappings }, { networkMode: 'host' })).toMatchObject({ networkMode: 'host', portMappings: [] });
    expect(specFor({ portMappings }, { networkMode: 'none' })).toMatchObject({ networkMode: 'none', portMappings: [] });
    expect(specFor({ portMappings })).toMatchObject({ networkMode: 'bridge', portMappings });
  });

  it('mounts: a bind mount by its host path, a task volume by its deterministic name, a shared one by its own', () => {
    const volumes = [
      { name: 'host', kind: 'bind', sourcePath: '/srv/data' },
      { name: 'scratch', kind: 'task', autoprovision: false, driver: 'local', driverOpts: {}, labels: {} },
      { name: 'cache', kind: 'shared', autoprovision: true, driver: 'local', driverOpts: {}, labels: {} },
    ] as const;
    const mountPoints = [
      { sourceVolume: 'host', containerPath: '/a', readOnly: true },
      { sourceVolume: 'scratch', containerPath: '/b', readOnly: false },
      { sourceVolume: 'cache', containerPath: '/c', readOnly: false },
    ];
    expect(specFor({ mountPoints }, { volumes }).mounts).toEqual([
      { type: 'bind', source: '/srv/data', target: '/a', readOnly: true },
      { type: 'volume', source: dockerVolumeName('arn:test:task/spec', volumes[1], AGENT_ID), target: '/b', readOnly: false },
      { type: 'volume', source: 'cache', target: '/c', readOnly: false },
    ]);
  });

  it('the metadata file: its directory mounted read-only after the task mounts, its path in ECS_CONTAINER_METADATA_FILE over the definition', () => {
    const state = newTaskState(
      taskDef('arn:test:task/spec', [containerDef('app', { environment: { A: '1', ECS_CONTAINER_METADATA_FILE: 'mine' }, mountPoints: [{ sourceVolume: 'host', containerPath: '/a', readOnly: false }] })], {
        volumes: [{ name: 'host', kind: 'bind', sourcePath: '/srv/data' }],
      }),
      1,
      AGENT_ID,
    );
    const at = metadataLocation('/data/metadata', state.arn, 'app');
    const spec = containerSpec(state, state.containers[0]!, AGENT_ID, at);
    expect(spec.env).toEqual({ A: '1', ECS_CONTAINER_METADATA_FILE: at.containerFile });
    expect(spec.mounts).toEqual([
      { type: 'bind', source: '/srv/data', target: '/a', readOnly: false },
      { type: 'bind', source: at.hostDir, target: at.containerDir, readOnly: true },
    ]);
    const without = containerSpec(state, state.containers[0]!, AGENT_ID);
    expect(without.env).toEqual({ A: '1', ECS_CONTAINER_METADATA_FILE: 'mine' });
    expect(without.mounts).toHaveLength(1);
  });
});

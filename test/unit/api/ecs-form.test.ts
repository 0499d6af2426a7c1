import { describe, expect, it } from 'vitest';
import { CONTAINER_DEFAULTS, DOCKER_VOLUME_DEFAULTS, HEALTH_CHECK_DEFAULTS, TASK_DEFAULTS } from '../../../src/api/task.js';
import { definition, ecs, ecsOf, IMAGE, issues, parsed } from './ecs-support.js';

describe('the ECS form', () => {
  it('fills every default once, and gives a definition without revision version "1"', () => {
    expect(parsed(ecs())).toEqual({
      kind: 'definition',
      task: { ...TASK_DEFAULTS, arn: 'arn:test:task/ecs-1', family: 'web', version: '1', containers: [{ ...CONTAINER_DEFAULTS, name: 'app', image: IMAGE }] },
      warnings: [],
    });
  });

  it('maps every supported field into the model, ECS lists becoming records', () => {
    const body = {
      arn: 'arn:test:task/full',
      family: 'full',
      revision: 12,
      desiredStatus: 'STOPPED',
      networkMode: 'bridge',
      pidMode: 'task',
      ipcMode: 'none',
      cpu: '1 vCPU',
      memory: '1GB',
      volumes: [
        { name: 'bind', host: { sourcePath: '/srv/data' } },
        { name: 'scratch', host: {} },
        { name: 'bare' },
        { name: 'cache', dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, driver: 'local', driverOpts: { type: 'tmpfs' }, labels: { team: 'a' } } },
      ],
      containerDefinitions: [
        {
          name: 'db',
          image: IMAGE,
          essential: false,
          healthCheck: { command: ['CMD-SHELL', 'test -f /ready'], interval: 10 },
          startTimeout: 60,
        },
        {
          name: 'web',
          image: IMAGE,
          cpu: 512,
          memory: 256,
          memoryReservation: 128,
          command: ['httpd', '-f'],
          entryPoint: ['/bin/sh', '-c'],
          environment: [{ name: 'A', value: '1' }, { name: 'spring.profiles.active', value: 'prod' }, { name: 'EMPTY' }],
          dockerLabels: { team: 'web' },
          stopTimeout: 45,
          portMappings: [
            { containerPort: 80, hostPort: 8080, protocol: 'tcp', name: 'http' },
            { containerPort: 53, hostPort: 0, protocol: 'udp' },
            { containerPort: 443, hostIp: '0.0.0.0' },
          ],
          dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }],
          links: ['db:database'],
          mountPoints: [{ sourceVolume: 'bind', containerPath: '/data', readOnly: true }, { sourceVolume: 'cache', containerPath: '/cache' }],
          volumesFrom: [{ sourceContainer: 'db' }],
          ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 4096 }],
          user: 'nobody',
          workingDirectory: '/srv',
          interactive: true,
          pseudoTerminal: true,
          readonlyRootFilesystem: true,
          dockerSecurityOptions: ['no-new-privileges'],
          systemControls: [{ namespace: 'net.core.somaxconn', value: '1024' }],
          hostname: 'web-1',
          dnsServers: ['10.0.0.2'],
          dnsSearchDomains: ['example.internal'],
          extraHosts: [{ hostname: 'db.local', ipAddress: '10.0.0.9' }],
          linuxParameters: {
            initProcessEnabled: true,
            sharedMemorySize: 64,
            tmpfs: [{ containerPath: '/run', size: 16 }],
            capabilities: { add: ['NET_ADMIN'] },
            devices: [{ hostPath: '/dev/null', containerPath: '/dev/nothing', permissions: ['read'] }],
            maxSwap: 0,
            swappiness: 10,
          },
          logConfiguration: { logDriver: 'json-file', options: { 'max-size': '10m' } },
        },
      ],
    };
    expect(definition(body)).toEqual({
      arn: 'arn:test:task/full',
      family: 'full',
      version: '12',
      desiredStatus: 'STOPPED',
      networkMode: 'bridge',
      pidMode: 'task',
      ipcMode: 'none',
      cpu: 1024,
      memory: 1024,
      volumes: [
        { name: 'bind', kind: 'bind', sourcePath: '/srv/data' },
        { name: 'scratch', ...DOCKER_VOLUME_DEFAULTS },
        { name: 'bare', ...DOCKER_VOLUME_DEFAULTS },
        { name: 'cache', kind: 'shared', autoprovision: true, driver: 'local', driverOpts: { type: 'tmpfs' }, labels: { team: 'a' } },
      ],
      containers: [
        {
          ...CONTAINER_DEFAULTS,
          name: 'db',
          image: IMAGE,
          essential: false,
          healthCheck: { ...HEALTH_CHECK_DEFAULTS, command: ['CMD-SHELL', 'test -f /ready'], interval: 10 },
          startTimeout: 60,
        },
        {
          ...CONTAINER_DEFAULTS,
          name: 'web',
          image: IMAGE,
          cpu: 512,
          memory: 256,
          memoryReservation: 128,
          command: ['httpd', '-f'],
          entryPoint: ['/bin/sh', '-c'],
          environment: { A: '1', 'spring.profiles.active': 'prod', EMPTY: '' },
          labels: { team: 'web' },
          stopTimeout: 45,
          portMappings: [
            { containerPort: 80, hostPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1', name: 'http' },
            { containerPort: 53, protocol: 'udp', hostIp: '127.0.0.1' },
            { containerPort: 443, protocol: 'tcp', hostIp: '0.0.0.0' },
          ],
          dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }],
          links: ['db:database'],
          mountPoints: [
            { sourceVolume: 'bind', containerPath: '/data', readOnly: true },
            { sourceVolume: 'cache', containerPath: '/cache', readOnly: false },
          ],
          volumesFrom: [{ sourceContainer: 'db', readOnly: false }],
          ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 4096 }],
          user: 'nobody',
          workingDirectory: '/srv',
          interactive: true,
          pseudoTerminal: true,
          readonlyRootFilesystem: true,
          dockerSecurityOptions: ['no-new-privileges'],
          systemControls: { 'net.core.somaxconn': '1024' },
          hostname: 'web-1',
          dnsServers: ['10.0.0.2'],
          dnsSearchDomains: ['example.internal'],
          extraHosts: [{ hostname: 'db.local', ipAddress: '10.0.0.9' }],
          linuxParameters: {
            initProcessEnabled: true,
            sharedMemorySize: 64,
            tmpfs: [{ containerPath: '/run', size: 16, mountOptions: [] }],
            capabilities: { add: ['NET_ADMIN'], drop: [] },
            devices: [{ hostPath: '/dev/null', containerPath: '/dev/nothing', permissions: ['read'] }],
            maxSwap: 0,
            swappiness: 10,
          },
          logConfiguration: { logDriver: 'json-file', options: { 'max-size': '10m' } },
        },
      ],
    });
  });

  it('gives the same model for the same definition written with nulls, empty objects and defaults spelled out', () => {
    const terse = definition(ecs({ command: ['sleep', '1'] }));
    const verbose = definition(
      ecs(
        { command: ['sleep', '1'], cpu: 0, essential: true, ulimits: null, linuxParameters: {}, portMappings: [], environment: [], secrets: [], hostname: null },
        { pidMode: null, volumes: [], networkMode: 'default', placementConstraints: [] },
      ),
    );
    expect(verbose).toEqual(terse);
  });

  it.each([
    [0, 2],
    [1, 2],
    [undefined, 2],
    [10, 10],
    ['256', 256],
  ])('gives container cpu %j as %d CPU shares, as the ECS agent does', (cpu, shares) => {
    expect(definition(ecs(cpu === undefined ? {} : { cpu })).containers[0]!.cpu).toBe(shares);
  });

  it('reads numbers written as strings, as templates write them', () => {
    const c = definition(ecs({ memory: '256', memoryReservation: '128', portMappings: [{ containerPort: '80', hostPort: '8080' }] })).containers[0]!;
    expect(c).toMatchObject({ memory: 256, memoryReservation: 128, portMappings: [{ containerPort: 80, hostPort: 8080 }] });
  });

  it.each([
    [256, 256],
    ['256', 256],
    ['1 vCPU', 1024],
    ['1 vcpu', 1024],
    ['.25 vcpu', 256],
    ['0.5vCPU', 512],
    ['192 vCPU', 196608],
  ])('reads task cpu %j as %d CPU units', (cpu, units) => {
    expect(definition(ecs({}, { cpu })).cpu).toBe(units);
  });

  it.each([
    [512, 512],
    ['512', 512],
    ['1GB', 1024],
    ['1 GB', 1024],
    ['.5 gb', 512],
    ['64', 64],
  ])('reads task memory %j as %d MiB', (memory, mib) => {
    expect(definition(ecs({}, { memory })).memory).toBe(mib);
  });

  it('publishes a host-networked container\'s port on the host port of the same number', () => {
    const c = definition(ecs({ portMappings: [{ containerPort: 8080 }, { containerPort: 9090, hostPort: 9090 }] }, { networkMode: 'host' })).containers[0]!;
    expect(c.portMappings.map((m) => m.hostPort)).toEqual([8080, 9090]);
  });

  it('turns a bare volume, host: {} and a task-scoped Docker volume into the same task volume', () => {
    const volumes = definition(
      ecs({}, { volumes: [{ name: 'a' }, { name: 'b', host: {} }, { name: 'c', dockerVolumeConfiguration: { scope: 'task' } }, { name: 'd', dockerVolumeConfiguration: {} }] }),
    ).volumes;
    expect(volumes).toEqual(['a', 'b', 'c', 'd'].map((name) => ({ name, ...DOCKER_VOLUME_DEFAULTS })));
  });

  it('reads a definition as DescribeTaskDefinition prints it, warning about what only AWS uses', () => {
    const described = ecs(
      { versionConsistency: 'enabled', portMappings: [{ containerPort: 80, appProtocol: 'http' }], logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': 'g' } } },
      {
        revision: 3,
        taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:3',
        status: 'ACTIVE',
        compatibilities: ['EC2'],
        requiresCompatibilities: ['EC2'],
        requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }],
        registeredAt: '2024-01-01T00:00:00Z',
        registeredBy: 'arn:aws:iam::123456789012:user/me',
        deregisteredAt: '2024-02-01T00:00:00Z',
        taskRoleArn: 'arn:aws:iam::123456789012:role/task',
        executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
        placementConstraints: [{ type: 'memberOf', expression: 'attribute:x == y' }],
        tags: [{ key: 'team', value: 'web' }],
        ephemeralStorage: { sizeInGiB: 25 },
        enableFaultInjection: false,
        runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
      },
    );
    const result = parsed(described);
    expect(result.kind === 'definition' && result.task.version).toBe('3');
    expect(result.warnings.map((w) => w.path)).toEqual([
      'runtimePlatform',
      'taskRoleArn',
      'executionRoleArn',
      'requiresCompatibilities',
      'compatibilities',
      'taskDefinitionArn',
      'status',
      'requiresAttributes',
      'registeredAt',
      'registeredBy',
      'deregisteredAt',
      'placementConstraints',
      'tags',
      'ephemeralStorage',
      'enableFaultInjection',
      'containerDefinitions[0].versionConsistency',
      'containerDefinitions[0].portMappings[0].appProtocol',
      'containerDefinitions[0].logConfiguration.logDriver',
    ]);
    const byPath = new Map(result.warnings.map((w) => [w.path, w.message]));
    expect(byPath.get('taskRoleArn')).toMatch(/^accepted, no effect: the task IAM role is served by the ECS credentials endpoint/);
    expect(byPath.get('runtimePlatform')).toBe('accepted, no effect: this host (LINUX, X86_64) matches it');
    expect(byPath.get('containerDefinitions[0].logConfiguration.logDriver')).toMatch(/awslogs driver sends to CloudWatch Logs with the Docker daemon's own AWS credentials/);
    // The awslogs driver is Docker's own: it is passed through, not dropped.
    expect(result.kind === 'definition' && result.task.containers[0]!.logConfiguration).toEqual({ logDriver: 'awslogs', options: { 'awslogs-group': 'g' } });
  });

  it('drops swappiness without maxSwap, as ECS ignores it, and says so', () => {
    const result = parsed(ecs({ linuxParameters: { swappiness: 30 } }));
    expect(result.kind === 'definition' && result.task.containers[0]!.linuxParameters).toBeUndefined();
    expect(result.warnings).toEqual([{ path: 'containerDefinitions[0].linuxParameters.swappiness', message: 'accepted, no effect: swappiness has no effect without maxSwap (as in ECS)' }]);
  });

  it('names an unknown field, with the ECS field it looks like', () => {
    expect(issues(ecs({ portBindings: [{ containerPort: 80 }] }))).toEqual([
      'containerDefinitions[0]: unknown field "portBindings": ECS\'s ContainerDefinition has no such field (did you mean "portMappings"?)',
    ]);
    expect(issues(ecs({ entrypoint: ['sh'] }))).toEqual([
      'containerDefinitions[0]: unknown field "entrypoint": ECS\'s ContainerDefinition has no such field (did you mean "entryPoint"?)',
    ]);
    expect(issues(ecs({}, { version: 3 }))).toEqual([': unknown field "version": ECS\'s TaskDefinition has no such field (did you mean "revision"?)']);
    expect(issues(ecs({}, { colour: 'blue' }))).toEqual([': unknown field "colour": ECS\'s TaskDefinition has no such field']);
    expect(issues(JSON.parse(`{"arn":"a","family":"f","constructor":1,"containerDefinitions":[{"name":"a","image":"busybox"}]}`))).toEqual([
      ': unknown field "constructor": ECS\'s TaskDefinition has no such field',
    ]);
  });

  it('asks for containerDefinitions when a body has no containers at all', () => {
    expect(issues({ arn: 'arn:x', family: 'web' })).toEqual(['containerDefinitions: required']);
  });

  it('refuses a null map value rather than guessing what it means', () => {
    expect(issues(ecs({ dockerLabels: { a: null } }))).toEqual(['containerDefinitions[0].dockerLabels.a: must be a string']);
  });

  it('keeps every container of a task in the order given', () => {
    expect(definition(ecsOf([{ name: 'b' }, { name: 'a' }, { name: 'c' }])).containers.map((c) => c.name)).toEqual(['b', 'a', 'c']);
  });
});

import { describe, expect, it } from 'vitest';
import { taskEdges } from '../../../src/api/dependency-edges.js';
import { definition, ecs, ecsOf, issues, type Body } from './ecs-support.js';

const healthy = { healthCheck: { command: ['CMD-SHELL', 'true'] } };
const on = (containerName: string, condition = 'START'): Body => ({ dependsOn: [{ containerName, condition }] });

/** [what, body, the issues expected]: the rules that look across containers. */
const CROSS_FIELD: Array<[string, Body, string[]]> = [
  ['a dependency on an unknown container', ecsOf([{ name: 'a', ...on('ghost') }]), ['containerDefinitions[0].dependsOn[0].containerName: no container named "ghost" in this task']],
  ['a container depending on itself', ecsOf([{ name: 'a', ...on('a') }]), ['containerDefinitions[0].dependsOn[0].containerName: a container cannot depend on itself']],
  ['HEALTHY on a container without a healthCheck', ecsOf([{ name: 'a', ...on('b', 'HEALTHY') }, { name: 'b' }]), ['containerDefinitions[0].dependsOn[0].condition: HEALTHY needs a healthCheck on b, which has none']],
  [
    'COMPLETE on an essential container',
    ecsOf([{ name: 'a', ...on('b', 'COMPLETE') }, { name: 'b' }]),
    ['containerDefinitions[0].dependsOn[0].condition: COMPLETE waits for b to exit, but b is essential and its exit stops the task; ECS requires such a dependency to be essential: false'],
  ],
  [
    'SUCCESS on an essential container',
    ecsOf([{ name: 'a', ...on('b', 'SUCCESS') }, { name: 'b', essential: true }]),
    ['containerDefinitions[0].dependsOn[0].condition: SUCCESS waits for b to exit, but b is essential and its exit stops the task; ECS requires such a dependency to be essential: false'],
  ],
  ['a cycle of two', ecsOf([{ name: 'a', ...on('b') }, { name: 'b', ...on('a') }]), ['containerDefinitions[0].dependsOn: dependency cycle a → b → a (a dependsOn b, b dependsOn a): none of them can start first']],
  [
    'a cycle of three, found from its first container',
    ecsOf([{ name: 'x' }, { name: 'b', ...on('c') }, { name: 'a', ...on('b') }, { name: 'c', ...on('a') }]),
    ['containerDefinitions[1].dependsOn: dependency cycle b → c → a → b (b dependsOn c, c dependsOn a, a dependsOn b): none of them can start first'],
  ],
  [
    'a cycle through links and volumesFrom',
    ecsOf([{ name: 'a', links: ['b'] }, { name: 'b', volumesFrom: [{ sourceContainer: 'a' }] }]),
    ['containerDefinitions[0].links: dependency cycle a → b → a (a links to b, b mounts volumes from a): none of them can start first'],
  ],
  [
    'a cycle through the owner of a task PID namespace (the first container)',
    { ...ecsOf([{ name: 'a', ...on('b') }, { name: 'b' }]), pidMode: 'task' },
    ['containerDefinitions[0].dependsOn: dependency cycle a → b → a (a dependsOn b, b shares the PID namespace (pidMode: task) of a): none of them can start first'],
  ],
  [
    'two separate cycles',
    ecsOf([{ name: 'a', ...on('b') }, { name: 'b', ...on('a') }, { name: 'c', ...on('d') }, { name: 'd', ...on('c') }]),
    [
      'containerDefinitions[0].dependsOn: dependency cycle a → b → a (a dependsOn b, b dependsOn a): none of them can start first',
      'containerDefinitions[2].dependsOn: dependency cycle c → d → c (c dependsOn d, d dependsOn c): none of them can start first',
    ],
  ],
  ['a link to an unknown container', ecsOf([{ name: 'a', links: ['db:database'] }]), ['containerDefinitions[0].links[0]: no container named "db" in this task']],
  ['a link to itself', ecsOf([{ name: 'a', links: ['a'] }]), ['containerDefinitions[0].links[0]: a container cannot link to itself']],
  ['links with host networking', ecsOf([{ name: 'a', links: ['b'] }, { name: 'b' }], { networkMode: 'host' }), ['containerDefinitions[0].links: links work only with bridge networking (Docker\'s legacy links), not networkMode "host"']],
  ['volumesFrom an unknown container', ecsOf([{ name: 'a', volumesFrom: [{ sourceContainer: 'data' }] }]), ['containerDefinitions[0].volumesFrom[0].sourceContainer: no container named "data" in this task']],
  ['volumesFrom itself', ecsOf([{ name: 'a', volumesFrom: [{ sourceContainer: 'a' }] }]), ['containerDefinitions[0].volumesFrom[0].sourceContainer: a container cannot mount its own volumes']],
  ['a mount of an undeclared volume', ecs({ mountPoints: [{ sourceVolume: 'data', containerPath: '/data' }] }), ['containerDefinitions[0].mountPoints[0].sourceVolume: no volume named "data" in this task\'s volumes']],
  ['a volume declared twice', ecs({}, { volumes: [{ name: 'v' }, { name: 'v', host: { sourcePath: '/srv' } }] }), ['volumes[1].name: duplicate volume name "v"']],
  ['two containers of one name', ecsOf([{ name: 'a' }, { name: 'a' }]), ['containerDefinitions[1].name: duplicate container name "a"']],
  [
    'a static host port used twice',
    ecsOf([{ name: 'a', portMappings: [{ containerPort: 80, hostPort: 8080 }] }, { name: 'b', portMappings: [{ containerPort: 81, hostPort: 8080 }] }]),
    ['containerDefinitions[1].portMappings[0].hostPort: host port 127.0.0.1:8080/tcp is already used by this task'],
  ],
  [
    'a static host port on 0.0.0.0 and on 127.0.0.1',
    ecs({ portMappings: [{ containerPort: 80, hostPort: 8080, hostIp: '0.0.0.0' }, { containerPort: 81, hostPort: 8080 }] }),
    ['containerDefinitions[0].portMappings[1].hostPort: host port 127.0.0.1:8080/tcp is already used by this task'],
  ],
  [
    'one container port twice with host networking',
    ecsOf([{ name: 'a', portMappings: [{ containerPort: 80 }] }, { name: 'b', portMappings: [{ containerPort: 80 }] }], { networkMode: 'host' }),
    ["containerDefinitions[1].portMappings[0].containerPort: port 80/tcp is already used by this task (with host networking each container listens on the host's own ports)"],
  ],
  ['ports with networkMode none', ecs({ portMappings: [{ containerPort: 80 }] }, { networkMode: 'none' }), ['containerDefinitions[0].portMappings: networkMode "none" gives the task no network, so there is nothing to publish a port on']],
  ['ports with disableNetworking', ecs({ disableNetworking: true, portMappings: [{ containerPort: 80 }] }), ['containerDefinitions[0].portMappings: disableNetworking leaves the container without a network, so there is nothing to publish a port on']],
  [
    'a network kernel parameter with host networking',
    ecs({ systemControls: [{ namespace: 'kernel.shmmax', value: '1' }, { namespace: 'net.core.somaxconn', value: '1' }] }, { networkMode: 'host' }),
    ['containerDefinitions[0].systemControls[1].namespace: net.core.somaxconn would change the host\'s own network stack: networkMode "host" shares it'],
  ],
  [
    'an IPC kernel parameter with the host\'s IPC namespace',
    ecs({ systemControls: [{ namespace: 'kernel.shmmax', value: '1' }] }, { ipcMode: 'host' }),
    ['containerDefinitions[0].systemControls[0].namespace: kernel.shmmax would change the host\'s own IPC settings: ipcMode "host" shares them'],
  ],
];

const ALLOWED: Array<[string, Body]> = [
  ['HEALTHY on a container with a healthCheck', ecsOf([{ name: 'a', ...on('b', 'HEALTHY') }, { name: 'b', ...healthy }])],
  ['COMPLETE and SUCCESS on non-essential containers', ecsOf([{ name: 'a', dependsOn: [{ containerName: 'b', condition: 'COMPLETE' }, { containerName: 'c', condition: 'SUCCESS' }] }, { name: 'b', essential: false }, { name: 'c', essential: false }])],
  ['a diamond (not a cycle)', ecsOf([{ name: 'a', dependsOn: [{ containerName: 'b', condition: 'START' }, { containerName: 'c', condition: 'START' }] }, { name: 'b', ...on('d') }, { name: 'c', ...on('d') }, { name: 'd' }])],
  ['the same host port on different addresses', ecs({ portMappings: [{ containerPort: 80, hostPort: 8080, hostIp: '127.0.0.1' }, { containerPort: 81, hostPort: 8080, hostIp: '127.0.0.2' }] })],
  ['the same host port for tcp and udp', ecs({ portMappings: [{ containerPort: 53, hostPort: 5353, protocol: 'tcp' }, { containerPort: 53, hostPort: 5353, protocol: 'udp' }] })],
  ['dynamic host ports for one container port twice', ecsOf([{ name: 'a', portMappings: [{ containerPort: 80 }] }, { name: 'b', portMappings: [{ containerPort: 80, hostPort: 0 }] }])],
  ['links by alias', ecsOf([{ name: 'a', links: ['b:db'] }, { name: 'b' }])],
  ['an IPC kernel parameter with the host\'s network', ecs({ systemControls: [{ namespace: 'kernel.shmmax', value: '1' }] }, { networkMode: 'host' })],
];

describe('rules across containers', () => {
  it.each(CROSS_FIELD)('refuses %s, naming the field', (_what, body, expected) => {
    expect(issues(body)).toEqual(expected);
  });

  it.each(ALLOWED)('accepts %s', (_what, body) => {
    expect(issues(body)).toEqual([]);
  });

  it('lists the orders a task implies, for the engine to plan by', () => {
    const task = definition(
      ecsOf([{ name: 'web', links: ['db:database'], volumesFrom: [{ sourceContainer: 'data' }], ...on('db', 'HEALTHY') }, { name: 'db', ...healthy }, { name: 'data', essential: false }]),
    );
    expect(taskEdges(task)).toEqual([
      { from: 'web', on: 'db', condition: 'HEALTHY', origin: 'dependsOn' },
      { from: 'web', on: 'db', condition: 'START', origin: 'links' },
      { from: 'web', on: 'data', condition: 'CREATE', origin: 'volumesFrom' },
    ]);
  });
});

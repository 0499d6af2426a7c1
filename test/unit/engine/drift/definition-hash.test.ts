import { describe, expect, it } from 'vitest';
import { containerDefinition, TASK_DEFAULTS, type ContainerDefinition } from '../../../../src/api/task.js';
import { canonicalJson, definitionHash, HASHERS, labelMatches, type HashedSettings } from '../../../../src/engine/drift/definition-hash.js';

const SETTINGS: HashedSettings = { networkMode: TASK_DEFAULTS.networkMode, volumes: [] };
const web = containerDefinition({ name: 'web', image: 'nginx:1', command: ['nginx'], environment: { A: '1', B: '2' } });
const hash = (d: ContainerDefinition, s: HashedSettings = SETTINGS): string => definitionHash(d, s);

describe('definition hash', () => {
  it('is versioned: v1 and 64 hex digits', () => {
    expect(hash(web)).toMatch(/^v1:[0-9a-f]{64}$/);
  });

  it('does not depend on key order', () => {
    const reordered = Object.fromEntries(Object.entries(web).reverse()) as unknown as ContainerDefinition;
    expect(hash({ ...reordered, environment: { B: '2', A: '1' } })).toBe(hash(web));
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
  });

  it('hashes a field left out as its default, and an undefined-valued field as absent', () => {
    const { cpu: _cpu, stopTimeout: _stopTimeout, ...bare } = web;
    expect(hash(bare as ContainerDefinition)).toBe(hash(web));
    expect(hash({ ...web, user: undefined })).toBe(hash(web));
    const port = { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' } as const;
    expect(hash({ ...web, portMappings: [{ containerPort: 80 } as never] })).toBe(hash({ ...web, portMappings: [port] }));
  });

  it('leaves out the fields that do not reach the container', () => {
    const ignored: Partial<ContainerDefinition>[] = [
      { essential: false },
      { startTimeout: 30 },
      { restartPolicy: { ignoredExitCodes: [0], restartAttemptPeriod: 60 } },
      { imagePullBehavior: 'always' },
      { portMappings: [{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', name: 'http' }] },
    ];
    const withPort = { ...web, portMappings: [{ containerPort: 80, protocol: 'tcp' as const, hostIp: '127.0.0.1' }] };
    for (const change of ignored) expect(hash({ ...withPort, ...change }), JSON.stringify(change)).toBe(hash(withPort));
  });

  it('changes with what the container is made of, the task settings it uses included', () => {
    const changes: Partial<ContainerDefinition>[] = [
      { image: 'nginx:2' },
      { command: ['nginx', '-g'] },
      { environment: { A: '1', B: '3' } },
      { portMappings: [{ containerPort: 81, protocol: 'tcp', hostIp: '127.0.0.1' }] },
      { memory: 64 },
      { healthCheck: { command: ['CMD', 'true'], interval: 30, timeout: 5, retries: 3, startPeriod: 0 } },
      { dependsOn: [{ containerName: 'db', condition: 'START' }] },
      { mountPoints: [{ sourceVolume: 'data', containerPath: '/d', readOnly: false }] },
    ];
    for (const change of changes) expect(hash({ ...web, ...change }), JSON.stringify(change)).not.toBe(hash(web));
    expect(hash(web, { ...SETTINGS, networkMode: 'host' })).not.toBe(hash(web));
    const mounting = { ...web, mountPoints: [{ sourceVolume: 'data', containerPath: '/d', readOnly: false }] };
    const volume = (driver: string): HashedSettings => ({ ...SETTINGS, volumes: [{ name: 'data', kind: 'task', autoprovision: false, driver, driverOpts: {}, labels: {} }] });
    expect(hash(mounting, volume('local'))).not.toBe(hash(mounting, volume('other')));
    // A volume it does not mount is not part of it.
    expect(hash(web, volume('local'))).toBe(hash(web));
  });

  it('ignores the order of dependencies, not the order of a command', () => {
    const deps = (...names: string[]): ContainerDefinition => ({ ...web, dependsOn: names.map((containerName) => ({ containerName, condition: 'START' as const })) });
    expect(hash(deps('a', 'b'))).toBe(hash(deps('b', 'a')));
    expect(hash({ ...web, command: ['b', 'a'] })).not.toBe(hash({ ...web, command: ['a', 'b'] }));
  });

  it('checks a label under its own version, so a version bump never makes an unchanged container stale', () => {
    const hashers = { ...HASHERS, v2: (): string => 'f'.repeat(64) };
    const v1Label = definitionHash(web, SETTINGS, hashers, 'v1');
    expect(definitionHash(web, SETTINGS, hashers, 'v2')).not.toBe(v1Label);
    expect(labelMatches(v1Label, web, SETTINGS, hashers)).toBe(true);
    expect(labelMatches(v1Label, { ...web, image: 'nginx:2' }, SETTINGS, hashers)).toBe(false);
    expect(labelMatches('v9:abc', web, SETTINGS, hashers)).toBe(false);
    expect(labelMatches('garbage', web, SETTINGS, hashers)).toBe(false);
  });
});

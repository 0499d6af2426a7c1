import { describe, expect, it } from 'vitest';
import { isImageReference, parseTaskInput } from '../../../src/api/schema.js';
import { CONTAINER_DEFAULTS, PORT_MAPPING_DEFAULTS, TASK_DEFAULTS } from '../../../src/api/task.js';
import { ValidationError } from '../../../src/errors.js';

const task = (extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}) => ({
  arn: 'arn:berth:task/x-1',
  family: 'web',
  version: 7,
  containers: [{ name: 'web', image: 'busybox', ...container }],
  ...extra,
});

function issues(body: unknown): string[] {
  try {
    parseTaskInput(body);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('parseTaskInput, short form', () => {
  it('fills every default once', () => {
    const parsed = parseTaskInput(task());
    expect(parsed).toEqual({
      kind: 'definition',
      task: {
        ...TASK_DEFAULTS,
        arn: 'arn:berth:task/x-1',
        family: 'web',
        version: '7',
        containers: [{ ...CONTAINER_DEFAULTS, name: 'web', image: 'busybox' }],
      },
      warnings: [],
    });
    const withPort = parseTaskInput(task({}, { portMappings: [{ containerPort: 80 }] }));
    expect(withPort.kind === 'definition' && withPort.task.containers[0]!.portMappings).toEqual([{ containerPort: 80, ...PORT_MAPPING_DEFAULTS }]);
  });

  it('reads {arn, desiredStatus} as a status change', () => {
    expect(parseTaskInput({ arn: 'arn:x', desiredStatus: 'STOPPED' })).toEqual({ kind: 'desired-status', arn: 'arn:x', desiredStatus: 'STOPPED', warnings: [] });
  });

  it('refuses a body that mixes both forms', () => {
    expect(issues({ ...task(), containerDefinitions: [] })).toEqual([
      ": give containerDefinitions (an ECS task definition) or containers (berth's short form), not both",
    ]);
  });

  it.each([
    ['duplicate container names', task({ containers: [{ name: 'a', image: 'busybox' }, { name: 'a', image: 'busybox' }] }), 'containers[1].name: duplicate container name "a"'],
    ['a host port used twice', task({}, { portMappings: [{ containerPort: 1, hostPort: 8080 }, { containerPort: 2, hostPort: 8080 }] }), 'containers[0].portMappings[1].hostPort'],
    ['a bad host IP', task({}, { portMappings: [{ containerPort: 1, hostIp: 'localhost' }] }), 'containers[0].portMappings[0].hostIp: must be an IPv4 or IPv6 address'],
    ['a stop timeout out of range', task({}, { stopTimeout: 5000 }), 'containers[0].stopTimeout'],
    ['no containers', task({ containers: [] }), 'containers'],
    ['an ECS field the short form lacks', task({}, { privileged: true }), 'containers[0]: "privileged" is not in berth\'s short form; write the task as an ECS task definition (containerDefinitions) to use it'],
    ['an unknown field', task({ colour: 'blue' }), ': unknown field "colour"'],
    ['an environment name starting with a digit', task({}, { environment: { '1BAD': 'x' } }), 'containers[0].environment.1BAD: environment names must match'],
    ['a __proto__ key', JSON.parse('{"arn":"a","family":"f","version":1,"containers":[{"name":"w","image":"b","labels":{"__proto__":"x"}}]}'), 'containers[0].labels.__proto__: the key "__proto__" is not allowed'],
    ['a body nested absurdly deep', JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), 'nested more than 16 levels deep'],
  ])('rejects %s, naming the field', (_what, body, expected) => {
    expect(issues(body).join('\n')).toContain(expected);
  });
});

describe('isImageReference', () => {
  it.each(['busybox', 'library/busybox:1.36', '127.0.0.1:5000/berth/busybox:latest', 'registry.example.com/a/b/c:v1.2-rc', `busybox@sha256:${'a'.repeat(64)}`])('accepts %s', (ref) => {
    expect(isImageReference(ref)).toBe(true);
  });
  it.each(['', 'Busybox', 'library/Busybox', 'busybox:', 'a::b', 'busybox:tag with space', ':latest', `x/${'a'.repeat(260)}`])('rejects %j', (ref) => {
    expect(isImageReference(ref)).toBe(false);
  });
});

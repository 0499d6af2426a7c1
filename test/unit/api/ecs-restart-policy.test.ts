import { describe, expect, it } from 'vitest';
import { definition, ecs, issues, type Body } from './ecs-support.js';

/** ECS's ContainerRestartPolicy: accepted and normalised when enabled, its bounds refused naming the field. */
const policy = (p: unknown): Body => ecs({ restartPolicy: p });
const at = 'containerDefinitions[0].restartPolicy';

const REFUSED: Array<[string, Body, string]> = [
  ['a period below 60 s', policy({ enabled: true, restartAttemptPeriod: 59 }), `${at}.restartAttemptPeriod: must be a whole number from 60 to 1800 seconds`],
  ['a period above 1800 s', policy({ enabled: true, restartAttemptPeriod: 1801 }), `${at}.restartAttemptPeriod: must be a whole number from 60 to 1800 seconds`],
  ['a fractional period', policy({ enabled: true, restartAttemptPeriod: 60.5 }), `${at}.restartAttemptPeriod: must be a whole number from 60 to 1800 seconds`],
  ['51 ignored exit codes', policy({ enabled: true, ignoredExitCodes: Array.from({ length: 51 }, (_, i) => i) }), `${at}.ignoredExitCodes: must list at most 50 exit codes`],
  ['a fractional exit code', policy({ enabled: true, ignoredExitCodes: [0, 1.5] }), `${at}.ignoredExitCodes[1]: must be a whole number from -2147483647 to 2147483647`],
  ['a policy without enabled', policy({ restartAttemptPeriod: 60 }), `${at}.enabled: required`],
  ['enabled as a word', policy({ enabled: 'yes' }), `${at}.enabled: must be true or false`],
  ['a key ECS does not define', policy({ enabled: true, maxRestarts: 3 }), `${at}: unknown field "maxRestarts": ECS's ContainerRestartPolicy has no such field`],
];

describe('restartPolicy in an ECS task definition', () => {
  it.each(REFUSED)('refuses %s with a message naming the field', (_what, body, expected) => {
    expect(issues(body)).toEqual([expected]);
  });

  it.each([
    ['an enabled policy with ECS defaults', { enabled: true }, { ignoredExitCodes: [], restartAttemptPeriod: 300 }],
    ['the bounds of the period, 60 s', { enabled: true, restartAttemptPeriod: 60 }, { ignoredExitCodes: [], restartAttemptPeriod: 60 }],
    ['the bounds of the period, 1800 s', { enabled: true, restartAttemptPeriod: '1800' }, { ignoredExitCodes: [], restartAttemptPeriod: 1800 }],
    ['50 ignored exit codes', { enabled: true, ignoredExitCodes: Array.from({ length: 50 }, (_, i) => i) }, { ignoredExitCodes: Array.from({ length: 50 }, (_, i) => i), restartAttemptPeriod: 300 }],
    ['null members, as left out', { enabled: true, ignoredExitCodes: null, restartAttemptPeriod: null }, { ignoredExitCodes: [], restartAttemptPeriod: 300 }],
  ])('accepts %s', (_what, p, expected) => {
    expect(definition(policy(p)).containers[0]!.restartPolicy).toEqual(expected);
  });

  it.each([
    ['a disabled policy', { enabled: false, ignoredExitCodes: [1], restartAttemptPeriod: 60 }],
    ['restartPolicy: null', null],
  ])('keeps nothing of %s: it asks for no restarts, the same as none', (_what, p) => {
    const c = definition(policy(p)).containers[0]!;
    expect(c).not.toHaveProperty('restartPolicy');
  });

  it('is an ECS-form field: the short form names where to write it', () => {
    const body = { arn: 'arn:x', family: 'f', version: '1', containers: [{ name: 'a', image: 'busybox', restartPolicy: { enabled: true } }] };
    expect(issues(body)).toEqual([
      'containers[0]: "restartPolicy" is not in berth\'s short form; write the task as an ECS task definition (containerDefinitions) to use it',
    ]);
  });
});

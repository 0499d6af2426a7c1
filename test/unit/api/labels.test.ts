import { describe, expect, it } from 'vitest';
import { isReservedLabel } from '../../../src/api/labels.js';
import { definition, ecs, issues } from './ecs-support.js';

describe('isReservedLabel', () => {
  it.each([
    ['berth.task-arn', true],
    ['berth.agent-id', true],
    ['berth.ad.id.extra', true],
    ['berth.ad', true],
    ['berth.ad.id', false],
    ['team', false],
    ['com.datadoghq.ad.check_names', false],
  ])('%s: %s', (key, reserved) => {
    expect(isReservedLabel(key)).toBe(reserved);
  });

  it('lets a task definition set berth.ad.id and still refuses the agent\'s own labels, naming the field', () => {
    expect(definition(ecs({ dockerLabels: { 'berth.ad.id': 'redis,cache' } })).containers[0]!.labels).toEqual({ 'berth.ad.id': 'redis,cache' });
    expect(issues(ecs({ dockerLabels: { 'berth.ad.id': 'redis', 'berth.agent-id': 'x' } }))).toEqual([
      'containerDefinitions[0].dockerLabels.berth.agent-id: label prefix "berth." is reserved for the agent',
    ]);
  });
});

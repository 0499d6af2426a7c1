import { describe, expect, it } from 'vitest';
import { definition, ecs, IMAGE, issues } from './ecs-support.js';

const short = (container: Record<string, unknown>) => ({ arn: 'arn:test:task/short-1', family: 'web', version: '1', containers: [{ name: 'app', image: IMAGE, ...container }] });
const CHOICES = 'must be one of "default", "always", "once", "prefer-cached"';

describe('imagePullBehavior on a container definition', () => {
  it.each(['default', 'always', 'once', 'prefer-cached'])('takes %s in the ECS form and the short form', (behavior) => {
    expect(definition(ecs({ imagePullBehavior: behavior })).containers[0]!.imagePullBehavior).toBe(behavior);
    expect(definition(short({ imagePullBehavior: behavior })).containers[0]!.imagePullBehavior).toBe(behavior);
  });

  it("is absent when not given: the agent's behaviour applies", () => {
    expect(definition(ecs()).containers[0]!).not.toHaveProperty('imagePullBehavior');
    expect(definition(short({})).containers[0]!).not.toHaveProperty('imagePullBehavior');
  });

  it.each([['never'], ['ALWAYS'], [true]])('refuses %j, naming the field', (value) => {
    expect(issues(ecs({ imagePullBehavior: value }))).toEqual([`containerDefinitions[0].imagePullBehavior: ${CHOICES}`]);
    expect(issues(short({ imagePullBehavior: value }))).toEqual([`containers[0].imagePullBehavior: ${CHOICES}`]);
  });
});

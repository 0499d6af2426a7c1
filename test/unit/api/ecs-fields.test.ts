import { describe, expect, it } from 'vitest';
import { ECS_TYPES, ecsFieldsOf } from '../../../src/api/parse/ecs-object.js';
import { ECS_REFERENCE, REFUSED_NON_ECS } from './ecs-reference.js';
import { ecs, issues } from './ecs-support.js';

describe('the catalog of ECS fields', () => {
  it('reads every ECS object type of a task definition', () => {
    expect(ECS_TYPES.map((t) => t.name).sort()).toEqual(Object.keys(ECS_REFERENCE).sort());
  });

  it.each(Object.entries(ECS_REFERENCE))('%s: every field ECS defines is supported, ignored or refused, and no other', (type, fields) => {
    expect([...ecsFieldsOf(type)].sort()).toEqual([...fields, ...(REFUSED_NON_ECS[type] ?? [])].sort());
  });

  it('says why for every ignored and refused field', () => {
    for (const t of ECS_TYPES) {
      for (const why of [...Object.values(t.ignored), ...Object.values(t.refused)]) expect(why.length).toBeGreaterThan(20);
    }
  });

  // A wrong value gets a message about the value; what matters is that none says "unknown".
  it.each(ECS_REFERENCE.TaskDefinition!)('never calls the TaskDefinition field %s unknown', (field) => {
    expect(issues(ecs({}, { [field]: 'x' })).join('\n')).not.toMatch(/unknown field|Unrecognized/);
  });

  it.each(ECS_REFERENCE.ContainerDefinition!)('never calls the ContainerDefinition field %s unknown', (field) => {
    expect(issues(ecs({ [field]: 'x' })).join('\n')).not.toMatch(/unknown field|Unrecognized/);
  });
});

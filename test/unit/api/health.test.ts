import { describe, expect, it } from 'vitest';
import { taskHealth } from '../../../src/api/health.js';
import type { HealthStatus } from '../../../src/api/task.js';
import { containerDef, taskAt } from '../../support/fixtures.js';

const CHECK = { command: ['CMD-SHELL', 'true'], interval: 5, timeout: 2, retries: 3, startPeriod: 0 };

/** A task whose containers have the given essential flag, check and health. */
function withHealth(containers: Array<{ essential: boolean; checked: boolean; health?: HealthStatus }>) {
  const names = containers.map((_, i) => `c${i}`);
  const base = taskAt(Object.fromEntries(names.map((n) => [n, 'RUNNING' as const])));
  return {
    ...base,
    containers: base.containers.map((c, i) => ({
      ...c,
      definition: containerDef(c.definition.name, { essential: containers[i]!.essential, ...(containers[i]!.checked ? { healthCheck: CHECK } : {}) }),
      ...(containers[i]!.health ? { health: containers[i]!.health } : {}),
    })),
  };
}

describe('taskHealth (ECS: derived from the essential containers with a health check)', () => {
  it.each<[string, Parameters<typeof withHealth>[0], HealthStatus]>([
    ['no health check anywhere', [{ essential: true, checked: false }], 'UNKNOWN'],
    ['all checked essentials healthy', [{ essential: true, checked: true, health: 'HEALTHY' }, { essential: true, checked: false }], 'HEALTHY'],
    ['one checked essential still being evaluated', [{ essential: true, checked: true, health: 'HEALTHY' }, { essential: true, checked: true, health: 'UNKNOWN' }], 'UNKNOWN'],
    ['one checked essential unhealthy', [{ essential: true, checked: true, health: 'HEALTHY' }, { essential: true, checked: true, health: 'UNHEALTHY' }], 'UNHEALTHY'],
    ['a non-essential unhealthy container does not count', [{ essential: true, checked: true, health: 'HEALTHY' }, { essential: false, checked: true, health: 'UNHEALTHY' }], 'HEALTHY'],
    ['only non-essential containers have checks', [{ essential: true, checked: false }, { essential: false, checked: true, health: 'HEALTHY' }], 'UNKNOWN'],
  ])('%s → %s', (_name, containers, expected) => {
    expect(taskHealth(withHealth(containers))).toBe(expected);
  });
});

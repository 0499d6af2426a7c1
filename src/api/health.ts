import type { HealthStatus, TaskState } from './task.js';

/**
 * Task health as ECS derives it, from the essential containers that have a health check: UNHEALTHY
 * if any of them is, HEALTHY once all of them are, UNKNOWN otherwise (still being evaluated, or no
 * essential container has a check). Non-essential containers never count.
 */
export function taskHealth(task: Pick<TaskState, 'containers'>): HealthStatus {
  const checked = task.containers.filter((c) => c.definition.essential && c.definition.healthCheck);
  if (checked.length === 0) return 'UNKNOWN';
  if (checked.some((c) => c.health === 'UNHEALTHY')) return 'UNHEALTHY';
  return checked.every((c) => c.health === 'HEALTHY') ? 'HEALTHY' : 'UNKNOWN';
}

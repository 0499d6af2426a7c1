import { containerDefinition, TASK_DEFAULTS, type ContainerDefinition, type ContainerState, type TaskDefinition, type TaskState } from '../../src/api/task.js';
import type { ContainerStatus, DesiredStatus } from '../../src/api/status.js';
import type { PlanInput } from '../../src/engine/planner.js';
import { newTaskState, settle } from '../../src/engine/task-state.js';

/** The agent ID the engine tests run as. */
export const AGENT_ID = 'agent-test-1';

export const IMAGE = 'registry.test:5000/berth/busybox:latest';

export function containerDef(name: string, overrides: Partial<ContainerDefinition> = {}): ContainerDefinition {
  return containerDefinition({ name, image: IMAGE, command: ['sleep', '300'], stopTimeout: 2, ...overrides });
}

export function taskDef(arn: string, containers: ContainerDefinition[] = [containerDef('app')], overrides: Partial<TaskDefinition> = {}): TaskDefinition {
  return { ...TASK_DEFAULTS, arn, family: 'web', version: '1', containers, ...overrides };
}

/**
 * A task whose containers are at the given statuses, e.g. `taskAt({ app: 'RUNNING', side: ['STOPPED', {exitCode: 1}] })`.
 * Containers at CREATED or later get a Docker ID derived from their name.
 */
export function taskAt(
  statuses: Record<string, ContainerStatus | [ContainerStatus, Partial<ContainerState>]>,
  options: { desired?: DesiredStatus; nonEssential?: string[]; now?: number; stoppedAt?: number } = {},
): TaskState {
  const names = Object.keys(statuses);
  const def = taskDef(
    'arn:test:task/t1',
    names.map((n) => containerDef(n, { essential: !(options.nonEssential ?? []).includes(n) })),
    { desiredStatus: options.desired ?? 'RUNNING' },
  );
  const base = newTaskState(def, options.now ?? 1_000, AGENT_ID);
  const containers = base.containers.map((c) => {
    const spec = statuses[c.definition.name]!;
    const [status, extra] = Array.isArray(spec) ? spec : [spec, {}];
    const withId = status === 'CREATED' || status === 'RUNNING' || (status === 'STOPPED' && extra.dockerId !== undefined);
    return { ...c, knownStatus: status, ...(withId ? { dockerId: fakeId(c.definition.name) } : {}), ...extra };
  });
  const settled = settle({ ...base, containers }, options.now ?? 1_000);
  return options.stoppedAt === undefined ? settled : { ...settled, stoppedAt: options.stoppedAt };
}

export function fakeId(name: string): string {
  return Buffer.from(name).toString('hex').padEnd(64, '0').slice(0, 64);
}

/** A planner input at `now`, with nothing to refresh or wait for unless `extra` says so. */
export function planInput(task: PlanInput['task'], now: number, extra: Partial<PlanInput> = {}): PlanInput {
  return { task, now, cleanupWaitMs: 60_000, refresh: new Set(), retryAt: new Map(), ...extra };
}

/** A Docker ID as the planner prints it. */
export const shortFakeId = (name: string): string => fakeId(name).slice(0, 12);

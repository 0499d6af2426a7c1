import type { TaskInput } from '../../../src/api/schema.js';
import type { TaskDefinition, TaskState } from '../../../src/api/task.js';
import { newTaskState, raiseDesired } from '../../../src/engine/task-state.js';
import { TaskConflictError, TaskNotFoundError } from '../../../src/errors.js';
import type { EnginePort } from '../../../src/sources/source-merger.js';
import type { SourcedTask } from '../../../src/sources/task-source.js';
import { AGENT_ID, containerDef, taskDef } from '../../support/fixtures.js';

export const arnOf = (n: string): string => `arn:berth:task/${n}`;

/** A definition whose image tag tells versions apart. */
export function def(name: string, tag = '1', overrides: Partial<TaskDefinition> = {}): TaskDefinition {
  return taskDef(arnOf(name), [containerDef('app', { image: `registry.test/app:${tag}` })], overrides);
}

export const sourced = (definition: TaskDefinition, origin = `${definition.arn}.json`): SourcedTask => ({ definition, origin });

/**
 * An engine that counts what it is asked. Like TaskEngine it refuses a changed definition for a
 * known arn; `hold()` makes every call wait until `release()`, to see what piles up meanwhile.
 */
export class CountingEngine implements EnginePort {
  readonly calls: TaskInput[] = [];
  readonly recorded: Array<{ arn: string; source: string; conflicts: readonly string[] }> = [];
  readonly tasks = new Map<string, TaskState>();
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  definitionCalls(arn: string): TaskDefinition[] {
    return this.calls.flatMap((c) => (c.kind === 'definition' && c.task.arn === arn ? [c.task] : []));
  }

  stopCalls(arn: string): number {
    return this.calls.filter((c) => c.kind === 'desired-status' && c.arn === arn && c.desiredStatus === 'STOPPED').length;
  }

  async addTask(input: TaskInput): Promise<{ task: TaskState; created: boolean }> {
    this.calls.push(input);
    await this.gate;
    const arn = input.kind === 'definition' ? input.task.arn : input.arn;
    const current = this.tasks.get(arn);
    if (input.kind !== 'definition') {
      if (!current) throw new TaskNotFoundError(arn);
      const next = raiseDesired(current, input.desiredStatus, 2);
      this.tasks.set(arn, next);
      return { task: next, created: false };
    }
    if (current && JSON.stringify(current.containers.map((c) => c.definition)) !== JSON.stringify(input.task.containers)) {
      throw new TaskConflictError(`task ${arn} already exists with a different definition`);
    }
    const task = current ?? newTaskState(input.task, 1, AGENT_ID);
    this.tasks.set(arn, task);
    return { task, created: !current };
  }

  getTask(arn: string): TaskState | undefined {
    return this.tasks.get(arn);
  }

  async recordSources(arn: string, sources: { source: string; conflicts: readonly string[] }): Promise<void> {
    this.recorded.push({ arn, ...sources });
    const t = this.tasks.get(arn);
    if (t) this.tasks.set(arn, { ...t, source: sources.source, conflicts: sources.conflicts });
  }
}

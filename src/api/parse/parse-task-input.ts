import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../../errors.js';
import { DESIRED_STATUSES } from '../status.js';
import type { TaskDefinition } from '../task.js';
import { checkKeys } from './check-keys.js';
import { ecsTaskSchema } from './ecs-schema.js';
import { arn } from './fields.js';
import { messages, toFieldIssues } from './issues.js';
import { fromEcsForm, fromShortForm } from './normalize.js';
import { checkRuntimePlatform, hostPlatform, type HostPlatform } from './platform.js';
import { taskDefinitionSchema } from './short-schema.js';
import { validateTask } from './validate-task.js';

export type TaskInput =
  | { readonly kind: 'definition'; readonly task: TaskDefinition }
  | { readonly kind: 'desired-status'; readonly arn: string; readonly desiredStatus: TaskDefinition['desiredStatus'] };

/** A parsed input, with what was accepted but has no effect here (the answer lists them). */
export type ParsedTaskInput = TaskInput & { readonly warnings: readonly FieldIssue[] };

/** What the agent's settings and its host change about what is accepted. */
export interface ParseOptions {
  /** `--allow-privileged`: without it, `privileged: true` is refused. */
  readonly allowPrivileged: boolean;
  /** A runtimePlatform is accepted only when it matches this. */
  readonly platform: HostPlatform;
}

/** The agent's defaults, on the host it runs on. */
export const DEFAULT_PARSE_OPTIONS: ParseOptions = { allowPrivileged: false, platform: hostPlatform() };

/** A request to change only the desired status of a task the agent already knows. */
const desiredStatusUpdateSchema = z.strictObject({
  arn,
  desiredStatus: z.enum(DESIRED_STATUSES),
});

/**
 * Parses a POST /v1/tasks body (or a task file): an ECS task definition (`containerDefinitions`),
 * berth's short form (`containers`), or `{arn, desiredStatus}` for a task that already exists.
 * Throws ValidationError naming every bad field by its path.
 */
export function parseTaskInput(body: unknown, options: ParseOptions = DEFAULT_PARSE_OPTIONS): ParsedTaskInput {
  checkKeys(body);
  const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? Object.keys(body) : [];
  if (fields.includes('desiredStatus') && fields.every((k) => k === 'arn' || k === 'desiredStatus')) {
    const update = desiredStatusUpdateSchema.safeParse(body, { error: messages });
    if (!update.success) throw new ValidationError(toFieldIssues(update.error));
    return { kind: 'desired-status', arn: update.data.arn, desiredStatus: update.data.desiredStatus, warnings: [] };
  }
  if (fields.includes('containers') && fields.includes('containerDefinitions')) {
    throw new ValidationError([
      { path: '', message: 'give containerDefinitions (an ECS task definition) or containers (berth\'s short form), not both' },
    ]);
  }
  return fields.includes('containers') ? shortForm(body) : ecsForm(body, options);
}

function ecsForm(body: unknown, options: ParseOptions): ParsedTaskInput {
  const parsed = ecsTaskSchema.safeParse(body, { error: messages });
  if (!parsed.success) throw new ValidationError(toFieldIssues(parsed.error));
  const platform = checkRuntimePlatform(parsed.data.runtimePlatform, options.platform);
  const { task, warnings } = fromEcsForm(parsed.data);
  const issues = [...platform.issues, ...validateTask(task, { containersKey: 'containerDefinitions', allowPrivileged: options.allowPrivileged })];
  if (issues.length > 0) throw new ValidationError(issues);
  return { kind: 'definition', task, warnings: [...platform.warnings, ...warnings] };
}

function shortForm(body: unknown): ParsedTaskInput {
  const parsed = taskDefinitionSchema.safeParse(body, { error: messages });
  if (!parsed.success) throw new ValidationError(toFieldIssues(parsed.error));
  const task = fromShortForm(parsed.data);
  // The short form has no privileged field, so the agent's setting cannot matter to it.
  const issues = validateTask(task, { containersKey: 'containers', allowPrivileged: false });
  if (issues.length > 0) throw new ValidationError(issues);
  return { kind: 'definition', task, warnings: [] };
}

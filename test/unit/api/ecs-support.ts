import { parseTaskInput, type ParseOptions, type ParsedTaskInput } from '../../../src/api/schema.js';
import { hostPlatform } from '../../../src/api/schema.js';
import type { TaskDefinition } from '../../../src/api/task.js';
import { ValidationError } from '../../../src/errors.js';

/** Helpers for the ECS-form parser tests. */

export const IMAGE = '127.0.0.1:5000/berth/busybox:latest';

export const LINUX_X64: ParseOptions = { allowPrivileged: false, platform: hostPlatform('linux', 'x64') };

export type Body = Record<string, unknown>;

/** An ECS task definition with one container `app` (merged with `container`) and `task` on top. */
export function ecs(container: Body = {}, task: Body = {}): Body {
  return { arn: 'arn:test:task/ecs-1', family: 'web', containerDefinitions: [{ name: 'app', image: IMAGE, ...container }], ...task };
}

/** An ECS task definition with the given containers (each needs only a name). */
export function ecsOf(containers: Body[], task: Body = {}): Body {
  return { arn: 'arn:test:task/ecs-1', family: 'web', containerDefinitions: containers.map((c) => ({ image: IMAGE, ...c })), ...task };
}

export function parsed(body: unknown, options: ParseOptions = LINUX_X64): ParsedTaskInput {
  return parseTaskInput(body, options);
}

export function definition(body: unknown, options: ParseOptions = LINUX_X64): TaskDefinition {
  const input = parseTaskInput(body, options);
  if (input.kind !== 'definition') throw new Error(`expected a definition, got ${input.kind}`);
  return input.task;
}

/** `path: message` for each issue of a refused body; [] when it was accepted. */
export function issues(body: unknown, options: ParseOptions = LINUX_X64): string[] {
  try {
    parseTaskInput(body, options);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

/**
 * Task input, the one entry point: the socket API validates request bodies with it and the CLI
 * validates files with it, so both accept and refuse the same things with the same messages.
 * Both input forms, an ECS task definition and berth's short form, are parsed in src/api/parse/
 * into the model of task.ts.
 */
export {
  DEFAULT_PARSE_OPTIONS,
  parseTaskInput,
  type ParsedTaskInput,
  type ParseOptions,
  type TaskInput,
} from './parse/parse-task-input.js';
export { hostPlatform, type HostPlatform } from './parse/platform.js';
export { derivedArn } from './parse/derive-arn.js';
export { ARN_PATTERN, isImageReference } from './parse/fields.js';
export { formatPath } from './parse/issues.js';

import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseTaskInput, type ParseOptions } from '../api/schema.js';
import { planDefinitionChange } from '../engine/drift/definition-change.js';
import type { TaskEngine } from '../engine/task-engine.js';
import { ValidationError } from '../errors.js';
import { HttpError, readJsonBody, sendJson } from './http.js';

/**
 * POST /v1/tasks/plan — what posting this definition to /v1/tasks would do to each container,
 * without doing it: the engine's own rule (planDefinitionChange), on the task as it stands.
 */
export async function planRoute(engine: TaskEngine, options: ParseOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonBody(req);
  let input;
  try {
    input = parseTaskInput(body, options);
  } catch (error) {
    if (error instanceof ValidationError) throw new HttpError(400, error.code, error.message, { issues: error.issues });
    throw error;
  }
  if (input.kind !== 'definition') {
    throw new HttpError(400, 'InvalidPlan', 'a plan needs a task definition (containers), not only a desired status');
  }
  sendJson(res, 200, { ...planDefinitionChange(engine.getTask(input.task.arn), input.task), warnings: input.warnings });
}

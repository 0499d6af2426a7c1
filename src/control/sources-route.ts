import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseTaskInput, type ParseOptions } from '../api/schema.js';
import { taskView } from '../api/view.js';
import type { TaskEngine } from '../engine/task-engine.js';
import { ValidationError, type FieldIssue } from '../errors.js';
import { WATCHED_SOURCE_NAMES } from '../sources/saved-sources.js';
import type { ArnOutcome, SourceMerger } from '../sources/source-merger.js';
import type { SourcedTask } from '../sources/task-source.js';
import { HttpError, readJsonBody, sendJson } from './http.js';
import { allowOnly } from './query.js';

/** The socket's own source: `POST /v1/tasks` is an ADD to it. */
export const API_SOURCE = 'api';

/** A pushed source's name: short, lowercase, safe in a path and a log line. */
export const SOURCE_NAME = /^[a-z][a-z0-9-]{0,62}$/;


export interface SourcesDeps {
  readonly engine: TaskEngine;
  readonly sources: SourceMerger;
  readonly taskInput: ParseOptions;
}

/** GET /v1/sources: every source, its set, conflicts and item errors. */
export async function listSources(deps: SourcesDeps, res: ServerResponse, url: URL): Promise<void> {
  allowOnly(url, []);
  sendJson(res, 200, { sources: deps.sources.statuses() });
}

/**
 * PUT /v1/sources/{name}/tasks: the source's whole set is now the body's `tasks`. Every item is
 * checked first; one bad item refuses the request (400 naming `tasks[i]` and the field) and
 * changes nothing. Answers once the engine has been asked for every changed task.
 */
export async function putSourceTasks(deps: SourcesDeps, req: IncomingMessage, res: ServerResponse, url: URL, params: Record<string, string>): Promise<void> {
  allowOnly(url, []);
  const name = params.name!;
  if (!SOURCE_NAME.test(name)) {
    throw new HttpError(400, 'InvalidSourceName', `source name must match ${SOURCE_NAME.source}, got ${JSON.stringify(name)}`);
  }
  if (WATCHED_SOURCE_NAMES.has(name) || deps.sources.isWatched(name)) {
    throw new HttpError(409, 'SourceWatched', `source ${name} is read by the agent itself (its directory or etcd); its set cannot be put over the socket`);
  }
  const { tasks, warnings } = parseSet(await readJsonBody(req), deps.taskInput);
  const outcomes = await deps.sources.push(name, { op: 'SET', tasks });
  sendJson(res, 200, { source: deps.sources.statuses().find((s) => s.name === name), changed: [...outcomes.keys()].sort(), warnings });
}

function parseSet(body: unknown, options: ParseOptions): { tasks: SourcedTask[]; warnings: FieldIssue[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !Array.isArray((body as { tasks?: unknown }).tasks)) {
    throw new ValidationError([{ path: 'tasks', message: 'must be an array of task definitions' }]);
  }
  const extra = Object.keys(body).filter((k) => k !== 'tasks');
  if (extra.length > 0) throw new ValidationError([{ path: extra[0]!, message: 'is not a field of a source set (only tasks)' }]);
  const issues: FieldIssue[] = [];
  const warnings: FieldIssue[] = [];
  const tasks: SourcedTask[] = [];
  const firstIndex = new Map<string, number>();
  (body as { tasks: unknown[] }).tasks.forEach((item, i) => {
    const at = (path: string): string => (path ? `tasks[${i}].${path}` : `tasks[${i}]`);
    try {
      const input = parseTaskInput(item, options);
      if (input.kind !== 'definition') {
        issues.push({ path: at(''), message: 'must be a task definition, not a desired status alone' });
        return;
      }
      const earlier = firstIndex.get(input.task.arn);
      if (earlier !== undefined) {
        issues.push({ path: at('arn'), message: `duplicates the arn of tasks[${earlier}]` });
        return;
      }
      firstIndex.set(input.task.arn, i);
      tasks.push({ definition: input.task, origin: `tasks[${i}]` });
      warnings.push(...input.warnings.map((w) => ({ ...w, path: at(w.path) })));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues.map((issue) => ({ ...issue, path: at(issue.path) })));
    }
  });
  if (issues.length > 0) throw new ValidationError(issues);
  return { tasks, warnings };
}

/**
 * POST /v1/tasks with a definition: an ADD to the `api` source, answered as before (201 created,
 * 200 known) with the task as it now stands. An arn another source claimed first is 409: the
 * api's claim is kept, reported as a conflict, and takes over when that source drops the arn.
 */
export async function addApiTask(deps: SourcesDeps, task: SourcedTask, warnings: readonly FieldIssue[], res: ServerResponse): Promise<void> {
  const arn = task.definition.arn;
  const outcome: ArnOutcome | undefined = (await deps.sources.push(API_SOURCE, { op: 'ADD', task }, { force: true })).get(arn);
  if (outcome?.kind === 'error') throw outcome.error;
  if (outcome?.kind === 'waiting') {
    throw new HttpError(409, 'SourceConflict', `task ${arn} belongs to source ${outcome.owner}, which claimed it first; the api's claim is recorded and takes over when ${outcome.owner} drops it`);
  }
  const current = deps.engine.getTask(arn);
  // The task as the engine took it (as before sources), with whose it is now.
  const taken = outcome?.kind === 'applied' ? outcome.task : current;
  if (!taken) throw new HttpError(500, 'InternalError', `task ${arn} was accepted but is not in the state`);
  const owned = { ...taken, source: API_SOURCE, ...(current?.conflicts === undefined ? {} : { conflicts: current.conflicts }) };
  sendJson(res, outcome?.kind === 'applied' && outcome.created ? 201 : 200, { ...taskView(owned), warnings });
}

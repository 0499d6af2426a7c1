import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StateChange } from '../api/events.js';
import { parseTaskInput } from '../api/schema.js';
import { taskView } from '../api/view.js';
import type { TaskEngine } from '../engine/task-engine.js';
import { BerthError, EngineClosedError, TaskConflictError, TaskNotFoundError, ValidationError } from '../errors.js';
import { HttpError, readJsonBody, sendJson } from './http.js';

export interface Metadata {
  readonly agentVersion: string;
  readonly agentId: string;
  readonly dockerVersion: string | null;
  readonly dataDir: string;
}

export interface Health {
  readonly healthy: boolean;
  readonly checks: Readonly<Record<string, { ok: boolean; detail?: string }>>;
}

export interface RouteDeps {
  readonly engine: TaskEngine;
  readonly metadata: () => Promise<Metadata>;
  readonly health: () => Promise<Health>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

const MAX_WAIT_SECONDS = 300;
const DEFAULT_EVENT_LIMIT = 500;
const MAX_EVENT_LIMIT = 5000;

/** Method → handler, per path. An unknown path is 404, a known path with another method 405. */
export function routes(deps: RouteDeps): ReadonlyMap<string, Readonly<Record<string, Handler>>> {
  return new Map<string, Record<string, Handler>>([
    ['/v1/tasks', { GET: (_req, res, url) => listTasks(deps, res, url), POST: (req, res) => postTask(deps, req, res) }],
    ['/v1/events', { GET: (req, res, url) => events(deps, req, res, url) }],
    ['/v1/metadata', { GET: async (_req, res) => sendJson(res, 200, await deps.metadata()) }],
    [
      '/v1/health',
      {
        GET: async (_req, res) => {
          const health = await deps.health();
          sendJson(res, health.healthy ? 200 : 503, health);
        },
      },
    ],
  ]);
}

async function postTask(deps: RouteDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonBody(req);
  try {
    const result = await deps.engine.addTask(parseTaskInput(body));
    sendJson(res, result.created ? 201 : 200, taskView(result.task));
  } catch (error) {
    throw toHttpError(error);
  }
}

async function listTasks(deps: RouteDeps, res: ServerResponse, url: URL): Promise<void> {
  allowOnly(url, ['taskarn', 'dockerid']);
  const arn = url.searchParams.get('taskarn');
  const dockerId = url.searchParams.get('dockerid');
  if (arn !== null && dockerId !== null) {
    throw new HttpError(400, 'InvalidQuery', 'give either taskarn or dockerid, not both');
  }
  if (arn !== null) {
    const task = deps.engine.getTask(arn);
    if (!task) throw new HttpError(404, 'TaskNotFound', `no task with arn ${JSON.stringify(arn)}`);
    sendJson(res, 200, taskView(task));
    return;
  }
  if (dockerId !== null) {
    if (!/^[0-9a-f]{12,64}$/.test(dockerId)) {
      throw new HttpError(400, 'InvalidQuery', 'dockerid must be 12 to 64 lowercase hex characters');
    }
    const task = deps.engine.findTaskByDockerId(dockerId);
    if (!task) throw new HttpError(404, 'TaskNotFound', `no task owns container ${dockerId}`);
    sendJson(res, 200, taskView(task));
    return;
  }
  sendJson(res, 200, { tasks: deps.engine.listTasks().map(taskView) });
}

async function events(deps: RouteDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  allowOnly(url, ['after', 'wait', 'limit']);
  const after = intParam(url, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
  const wait = intParam(url, 'wait', 0, 0, MAX_WAIT_SECONDS);
  const limit = intParam(url, 'limit', DEFAULT_EVENT_LIMIT, 1, MAX_EVENT_LIMIT);
  let found = await deps.engine.eventsAfter(after, limit);
  if (found.length === 0 && wait > 0) {
    await nextEventAfter(deps.engine, after, wait * 1000, req);
    found = await deps.engine.eventsAfter(after, limit);
  }
  sendJson(res, 200, { events: found, last: found.at(-1)?.seq ?? after });
}

/** Resolves when an event past `after` is saved, the wait runs out, or the client goes away. */
function nextEventAfter(engine: TaskEngine, after: number, waitMs: number, req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      unsubscribe();
      clearTimeout(timer);
      req.socket.off('close', done);
      resolve();
    };
    const unsubscribe = engine.subscribe((e: StateChange) => {
      if (e.seq > after) done();
    });
    const timer = setTimeout(done, waitMs);
    req.socket.once('close', done);
  });
}

function allowOnly(url: URL, names: readonly string[]): void {
  for (const key of url.searchParams.keys()) {
    if (!names.includes(key)) {
      throw new HttpError(400, 'InvalidQuery', `unknown query parameter ${JSON.stringify(key)}; allowed: ${names.join(', ')}`);
    }
  }
}

function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new HttpError(400, 'InvalidQuery', `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function toHttpError(error: unknown): unknown {
  if (error instanceof ValidationError) {
    return new HttpError(400, error.code, error.message, { issues: error.issues });
  }
  if (error instanceof TaskNotFoundError) return new HttpError(404, error.code, error.message);
  if (error instanceof TaskConflictError) return new HttpError(409, error.code, error.message);
  if (error instanceof EngineClosedError) return new HttpError(503, error.code, error.message);
  if (error instanceof BerthError && error.retryable) return new HttpError(503, error.code, error.message);
  return error;
}

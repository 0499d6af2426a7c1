import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseTaskInput, type ParseOptions } from '../api/schema.js';
import { taskView } from '../api/view.js';
import type { LogsClient } from '../docker/docker-client.js';
import type { TaskEngine } from '../engine/task-engine.js';
import { BerthError, EngineClosedError, TaskConflictError, TaskNotFoundError, ValidationError } from '../errors.js';
import { CONTAINER_STATUSES, isContainerStatus } from '../api/status.js';
import { eventsRoute } from './events-route.js';
import { HttpError, readJsonBody, sendJson } from './http.js';
import type { RouteStatus } from '../routes/route-runner.js';
import { containersRoute } from './containers-route.js';
import { logsRoute } from './logs-route.js';
import { progressRoute } from './progress-route.js';
import { allStatsRoute, taskStatsRoute, type StatsSource } from './stats-route.js';
import { servicesRoute } from './services-route.js';
import { allowOnly } from './query.js';
import { planRoute } from './plan-route.js';
import type { SourceMerger } from '../sources/source-merger.js';
import { addApiTask, listSources, putSourceTasks } from './sources-route.js';

export interface Metadata {
  readonly agentVersion: string;
  readonly agentId: string;
  readonly dockerVersion: string | null;
  readonly dataDir: string;
  /** The agent's configured cluster name (--cluster). */
  readonly cluster: string;
  /** The event feed's bounds: resume from `lastSeq`, or from `oldestSeq - 1` to read all that is kept. */
  readonly events: { readonly oldestSeq: number | null; readonly lastSeq: number };
}

export interface Health {
  readonly healthy: boolean;
  /** Healthy, but something is not as it should be (a route failing or with a gap): look at `checks`. */
  readonly degraded: boolean;
  readonly checks: Readonly<Record<string, { ok: boolean; detail?: string }>>;
}

export interface RouteDeps {
  readonly engine: TaskEngine;
  readonly metadata: () => Promise<Metadata>;
  readonly health: () => Promise<Health>;
  /** Prometheus text exposition. */
  readonly metrics: () => Promise<{ contentType: string; body: string }>;
  /** What the agent's settings and host allow in a task (privileged containers, runtimePlatform). */
  readonly taskInput: ParseOptions;
  /** Where container output is read from. */
  readonly logs: LogsClient;
  /** Each event route's progress (README "Event routes"). */
  readonly routes: () => readonly RouteStatus[];
  /** Containers' latest usage samples. */
  readonly stats: StatsSource;
  /** The task sources, merged (README "Task sources"). */
  readonly sources: SourceMerger;
}

/** `params`: the path's `{name}` captures, decoded (path-params.ts). */
type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, params: Record<string, string>) => Promise<void>;


/**
 * Method → handler, per path; a path may capture segments as `{name}` (path-params.ts). An unknown
 * path is 404, a known path with another method 405.
 */
export function routes(deps: RouteDeps): ReadonlyMap<string, Readonly<Record<string, Handler>>> {
  return new Map<string, Record<string, Handler>>([
    ['/v1/tasks', { GET: (_req, res, url) => listTasks(deps, res, url), POST: (req, res) => postTask(deps, req, res) }],
    ['/v1/tasks/plan', { POST: (req, res) => planRoute(deps.engine, deps.taskInput, req, res) }],
    ['/v1/events', { GET: (req, res, url) => eventsRoute(deps.engine, req, res, url) }],
    ['/v1/sources', { GET: (_req, res, url) => listSources(deps, res, url) }],
    ['/v1/sources/{name}/tasks', { PUT: (req, res, url, params) => putSourceTasks(deps, req, res, url, params).catch((e: unknown) => Promise.reject(toHttpError(e))) }],
    [
      '/metrics',
      {
        GET: async (_req, res, url) => {
          allowOnly(url, []);
          const { contentType, body } = await deps.metrics();
          res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
          res.end(body);
        },
      },
    ],
    [
      '/v1/tasks/{arn}/containers/{name}/logs',
      { GET: (req, res, url, params) => logsRoute(deps.engine, deps.logs, req, res, url, params) },
    ],
    ['/v1/containers', { GET: async (_req, res, url) => containersRoute(() => deps.engine.listTasks(), res, url) }],
    [
      '/v1/routes',
      {
        GET: async (_req, res, url) => {
          allowOnly(url, []);
          sendJson(res, 200, { routes: deps.routes() });
        },
      },
    ],
    ['/v1/stats', { GET: async (_req, res, url) => allStatsRoute(deps.stats, res, url) }],
    ['/v1/tasks/{arn}/stats', { GET: async (_req, res, url, params) => taskStatsRoute(deps.engine, deps.stats, res, url, params) }],
    ['/v1/services', { GET: (req, res, url) => servicesRoute(deps.engine.services, req, res, url) }],
    ['/v1/progress', { GET: (req, res, url) => progressRoute(deps.engine, req, res, url) }],
    [
      '/v1/metadata',
      {
        GET: async (_req, res, url) => {
          allowOnly(url, []);
          sendJson(res, 200, await deps.metadata());
        },
      },
    ],
    [
      '/v1/health',
      {
        GET: async (_req, res, url) => {
          allowOnly(url, []);
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
    const input = parseTaskInput(body, deps.taskInput);
    // A definition is the api source's; a desired status alone raises that of a known task, whichever source it is from.
    if (input.kind === 'definition') {
      await addApiTask(deps, { definition: input.task, origin: 'POST /v1/tasks' }, input.warnings, res);
      return;
    }
    const result = await deps.engine.addTask(input);
    // The task as it now stands, and what of the definition was accepted without effect.
    sendJson(res, result.created ? 201 : 200, { ...taskView(result.task), warnings: input.warnings });
  } catch (error) {
    throw toHttpError(error);
  }
}

async function listTasks(deps: RouteDeps, res: ServerResponse, url: URL): Promise<void> {
  allowOnly(url, ['taskarn', 'dockerid', 'status', 'family']);
  const arn = url.searchParams.get('taskarn');
  const dockerId = url.searchParams.get('dockerid');
  const status = url.searchParams.get('status');
  const family = url.searchParams.get('family');
  if (arn !== null && dockerId !== null) {
    throw new HttpError(400, 'InvalidQuery', 'give either taskarn or dockerid, not both');
  }
  if ((arn !== null || dockerId !== null) && (status !== null || family !== null)) {
    throw new HttpError(400, 'InvalidQuery', 'status and family filter the list; they do not combine with taskarn or dockerid');
  }
  if (status !== null && !isContainerStatus(status)) {
    throw new HttpError(400, 'InvalidQuery', `status must be one of ${CONTAINER_STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
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
  const tasks = deps.engine
    .listTasks()
    .filter((t) => (status === null || t.knownStatus === status) && (family === null || t.family === family));
  sendJson(res, 200, { tasks: tasks.map(taskView) });
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

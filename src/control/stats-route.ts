import type { ServerResponse } from 'node:http';
import { statsView } from '../api/stats-view.js';
import type { TaskState } from '../api/task.js';
import type { ContainerUsage } from '../engine/stats/container-usage.js';
import type { StatsStatus } from '../engine/stats/stats-poller.js';
import type { TaskEngine } from '../engine/task-engine.js';
import { HttpError, sendJson } from './http.js';
import { allowOnly } from './query.js';

/** The latest samples (StatsPoller): the routes answer from memory, never call Docker. */
export interface StatsSource {
  status(): StatsStatus;
  latest(): ContainerUsage[];
  usageOfTask(task: TaskState): ContainerUsage[];
}

/** GET /v1/stats — every running container's latest usage. */
export function allStatsRoute(stats: StatsSource, res: ServerResponse, url: URL): void {
  allowOnly(url, []);
  sendJson(res, 200, statsView(stats.status(), stats.latest()));
}

/** GET /v1/tasks/{arn}/stats — the latest usage of one task's running containers. */
export function taskStatsRoute(engine: TaskEngine, stats: StatsSource, res: ServerResponse, url: URL, params: Record<string, string>): void {
  allowOnly(url, []);
  const arn = params.arn!;
  const task = engine.getTask(arn);
  if (!task) throw new HttpError(404, 'TaskNotFound', `no task with arn ${JSON.stringify(arn)}`);
  sendJson(res, 200, statsView(stats.status(), stats.usageOfTask(task)));
}

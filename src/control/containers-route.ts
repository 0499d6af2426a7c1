import type { ServerResponse } from 'node:http';
import type { TaskState } from '../api/task.js';
import { FilterPatternError, parseFilterPattern } from '../routes/label-filter.js';
import { runningContainers } from '../routes/route-view.js';
import { HttpError, sendJson } from './http.js';
import { allowOnly } from './query.js';

/**
 * `GET /v1/containers?filter=k=v,...`: beacon's `Containers(filter)`, the running containers whose
 * labels match, as routes deliver them (id, task, service, labels, bindings).
 */
export function containersRoute(tasks: () => readonly TaskState[], res: ServerResponse, url: URL): void {
  allowOnly(url, ['filter']);
  const pattern = url.searchParams.get('filter') ?? '';
  let filter;
  try {
    filter = parseFilterPattern(pattern);
  } catch (error) {
    if (error instanceof FilterPatternError) throw new HttpError(400, 'InvalidQuery', error.message);
    throw error;
  }
  sendJson(res, 200, { containers: runningContainers(tasks(), filter) });
}

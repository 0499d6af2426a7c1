import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TaskEngine } from '../engine/task-engine.js';
import { HttpError } from './http.js';
import { allowOnly } from './query.js';

const MAX_BUFFERED_BYTES = 256 * 1024;

/**
 * GET /v1/progress?taskarn=ARN — image-pull progress of the task's containers as it happens,
 * one JSON object per line, until the client hangs up. Transient: nothing here is kept. The ARN
 * need not exist yet, so a client can listen first and then post the task without missing a line.
 */
export async function progressRoute(engine: TaskEngine, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  allowOnly(url, ['taskarn']);
  const arn = url.searchParams.get('taskarn');
  if (arn === null) throw new HttpError(400, 'InvalidQuery', 'taskarn is required');
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  res.flushHeaders();
  const unsubscribe = engine.onPullProgress((p) => {
    if (p.taskArn !== arn || res.destroyed) return;
    // Progress is disposable: a reader that falls behind skips snapshots instead of growing a buffer.
    if (res.writableLength > MAX_BUFFERED_BYTES) return;
    res.write(`${JSON.stringify(p)}\n`);
  });
  await new Promise<void>((resolve) => (req.socket.destroyed ? resolve() : req.socket.once('close', resolve)));
  unsubscribe();
}

import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogsClient } from '../docker/docker-client.js';
import { logLines } from '../docker/log-lines.js';
import type { TaskEngine } from '../engine/task-engine.js';
import { BerthError, ContainerNotFoundError, DockerApiError } from '../errors.js';
import { HttpError } from './http.js';
import { allowOnly, flagParam } from './query.js';

/**
 * GET /v1/tasks/{arn}/containers/{name}/logs?follow=&tail=&since=&timestamps= — a container's
 * output, read from Docker as it comes (the agent keeps none), as NDJSON `{stream, line, time?}`.
 * The task's record names the Docker container; Docker keeps its output until the container is
 * removed at the task's cleanup. Backpressure reaches Docker: a slow client slows the read, and a
 * client that goes away ends it.
 */
export async function logsRoute(
  engine: TaskEngine,
  docker: LogsClient,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  params: Record<string, string>,
): Promise<void> {
  allowOnly(url, ['follow', 'tail', 'since', 'timestamps']);
  const follow = flagParam(url, 'follow');
  const timestamps = flagParam(url, 'timestamps');
  const tail = tailParam(url);
  const sinceMs = sinceParam(url);
  const arn = params.arn!;
  const name = params.name!;
  const task = engine.getTask(arn);
  if (!task) throw new HttpError(404, 'TaskNotFound', `no task with arn ${JSON.stringify(arn)}`);
  const container = task.containers.find((c) => c.definition.name === name);
  if (!container) {
    const names = task.containers.map((c) => c.definition.name).join(', ');
    throw new HttpError(404, 'ContainerNotFound', `task ${arn} has no container ${JSON.stringify(name)}; its containers: ${names}`);
  }
  if (container.dockerId === undefined) {
    throw new HttpError(409, 'NoDockerContainer', `container ${name} of task ${arn} has no Docker container yet (it is ${container.knownStatus}); it has no output`);
  }
  const dockerId = container.dockerId;

  const abort = new AbortController();
  const gone = (): void => abort.abort();
  res.once('close', gone);
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const chunks = docker.containerLogs(dockerId, {
    follow,
    timestamps,
    signal: abort.signal,
    onOpen: () => opened(),
    ...(tail === undefined ? {} : { tail }),
    ...(sinceMs === undefined ? {} : { sinceMs }),
  });
  const lines = logLines(chunks, timestamps)[Symbol.asyncIterator]();
  try {
    // Docker's refusal (the container removed, a log driver it cannot read) is answered as an
    // error; once Docker has accepted, the answer is a stream.
    const first = lines.next();
    first.catch(() => {});
    try {
      await Promise.race([open, first]);
    } catch (error) {
      throw refusal(error, name, arn, dockerId);
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.flushHeaders();
    for (let next = await first; !next.done && !res.destroyed; next = await lines.next()) {
      if (!res.write(`${JSON.stringify(next.value)}\n`)) {
        await Promise.race([once(res, 'drain'), once(res, 'close')]);
      }
    }
    res.end();
  } finally {
    res.off('close', gone);
    abort.abort();
    await lines.return?.(undefined).catch(() => undefined);
  }
}

function refusal(error: unknown, name: string, arn: string, dockerId: string): unknown {
  if (error instanceof ContainerNotFoundError) {
    return new HttpError(404, 'ContainerGone', `container ${name} of task ${arn} (${dockerId.slice(0, 12)}) is no longer in Docker: its output went with it at the task's cleanup`);
  }
  // 501: a log driver Docker cannot read back (`none`); a 4xx: Docker refuses for this container.
  if (error instanceof DockerApiError && (error.statusCode === 501 || !error.retryable)) {
    return new HttpError(409, 'LogsUnreadable', `Docker cannot read the output of container ${name} of task ${arn}: ${error.message}`);
  }
  if (error instanceof BerthError && error.retryable) return new HttpError(503, error.code, error.message);
  return error;
}

function tailParam(url: URL): number | undefined {
  const raw = url.searchParams.get('tail');
  if (raw === null || raw === 'all') return undefined;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new HttpError(400, 'InvalidQuery', `tail must be a whole number of lines or "all", got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** RFC3339 (`2026-12-02T09:10:00Z`) or Unix seconds with an optional fraction, as Docker takes it. */
function sinceParam(url: URL): number | undefined {
  const raw = url.searchParams.get('since');
  if (raw === null) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.floor(Number(raw) * 1000);
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new HttpError(400, 'InvalidQuery', `since must be an RFC3339 time (2026-12-02T09:10:00Z) or Unix seconds, got ${JSON.stringify(raw)}`);
  }
  return ms;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StateChange } from '../api/events.js';
import type { TaskEngine } from '../engine/task-engine.js';
import { HttpError, sendJson } from './http.js';
import { allowOnly, intParam, wantsNdjson } from './query.js';

const MAX_WAIT_SECONDS = 300;
const DEFAULT_EVENT_LIMIT = 500;
const MAX_EVENT_LIMIT = 5000;
/** A streaming client this far behind is cut off; it resumes from its last seq. */
const MAX_STREAM_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * GET /v1/events?after=SEQ&wait=S&limit=N — the durable feed. Never skips: if events after the
 * cursor were pruned (or the cursor is from the future), the answer is 410 and the client
 * resyncs from GET /v1/tasks. With `Accept: application/x-ndjson` the answer is a stream.
 */
export async function eventsRoute(engine: TaskEngine, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const stream = wantsNdjson(req.headers.accept);
  allowOnly(url, stream ? ['after'] : ['after', 'wait', 'limit']);
  const after = intParam(url, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
  if (stream) return streamEvents(engine, req, res, after);
  const wait = intParam(url, 'wait', 0, 0, MAX_WAIT_SECONDS);
  const limit = intParam(url, 'limit', DEFAULT_EVENT_LIMIT, 1, MAX_EVENT_LIMIT);
  // Listening starts before the first read, so an event saved while it runs still ends the wait.
  const arrival = wait > 0 ? nextEventAfter(engine, after, wait * 1000, req) : undefined;
  try {
    let found = await readChecked(engine, after, limit);
    if (found.length === 0 && arrival) {
      await arrival.promise;
      found = await readChecked(engine, after, limit);
    }
    sendJson(res, 200, { events: found, last: found.at(-1)?.seq ?? after });
  } finally {
    arrival?.cancel();
  }
}

/** Reads events after the cursor and proves none are missing between the cursor and the first one. */
async function readChecked(engine: TaskEngine, after: number, limit: number): Promise<StateChange[]> {
  const last = engine.lastEventSeq();
  if (after > last) {
    throw new HttpError(410, 'CursorAhead', `cursor ${after} is ahead of the newest event (${last}); resync from GET /v1/tasks and resume from after=${last}`, { resumeAfter: last });
  }
  const found = await engine.eventsAfter(after, limit);
  const first = found[0]?.seq;
  if ((first === undefined && after < last) || (first !== undefined && first > after + 1)) {
    const oldest = await engine.oldestEventSeq();
    throw new HttpError(
      410,
      'CursorExpired',
      `events after ${after} are no longer kept (retention); resync from GET /v1/tasks and resume from after=${last}`,
      { resumeAfter: last, oldestKept: oldest ?? null },
    );
  }
  return found;
}

/** Settles when an event past `after` is visible, the wait runs out, or the client goes away. */
function nextEventAfter(engine: TaskEngine, after: number, waitMs: number, req: IncomingMessage): { promise: Promise<void>; cancel(): void } {
  let done = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    done = (): void => {
      unsubscribe();
      clearTimeout(timer);
      req.socket.off('close', done);
      resolve();
    };
    const unsubscribe = engine.subscribe((e) => {
      if (e.seq > after) done();
    });
    const timer = setTimeout(done, waitMs);
    if (req.socket.destroyed) done();
    else req.socket.once('close', done);
  });
  return { promise, cancel: () => done() };
}

/**
 * Writes the backlog after the cursor, then every new event as it is saved, one JSON object per
 * line. Live events arriving while the backlog is read are held and written after it, each once.
 */
async function streamEvents(engine: TaskEngine, req: IncomingMessage, res: ServerResponse, after: number): Promise<void> {
  let cursor = after;
  let live = false;
  const held: StateChange[] = [];
  const write = (e: StateChange): void => {
    if (e.seq <= cursor || res.destroyed) return;
    cursor = e.seq;
    res.write(`${JSON.stringify(e)}\n`);
    if (res.writableLength > MAX_STREAM_BUFFER_BYTES) res.destroy();
  };
  const unsubscribe = engine.subscribe((e) => (live ? write(e) : held.push(e)));
  const closed = new Promise<void>((resolve) => (req.socket.destroyed ? resolve() : req.socket.once('close', resolve)));
  try {
    let page = await readChecked(engine, after, MAX_EVENT_LIMIT);
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.flushHeaders();
    while (page.length > 0) {
      page.forEach(write);
      if (page.length < MAX_EVENT_LIMIT || res.destroyed) break;
      page = await engine.eventsAfter(cursor, MAX_EVENT_LIMIT);
      // Retention may have pruned past the cursor meanwhile: end the stream rather than skip;
      // the client reconnects from its last seq and is told to resync.
      if (page[0] && page[0].seq !== cursor + 1) {
        res.destroy();
        break;
      }
    }
    held.splice(0).forEach(write);
    live = true;
    await closed;
  } finally {
    unsubscribe();
  }
}

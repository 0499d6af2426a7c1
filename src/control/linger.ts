import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Clock } from '../util/clock.js';

/** How long, and how much, of a refused body is read and discarded before the connection closes. */
export interface LingerBounds {
  readonly lingerMs: number;
  readonly lingerBytes: number;
}

/**
 * Answers a request whose body the agent did not read (413, 415, 404…) with `Connection: close`,
 * then closes the way nginx's lingering close does. Closing a socket that still has unread bytes
 * resets it, and a client still uploading then sees `EPIPE` or `ECONNRESET` instead of the answer.
 * So the whole answer is written at once, while the response is kept open and the rest of the body
 * is read and discarded; the response ends (and Node closes the connection) once the body is in,
 * or at the bounds, where a client that keeps sending is cut off.
 */
export function answerThenLinger(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  payload: string,
  bounds: LingerBounds,
  clock: Clock,
): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), connection: 'close' });
  // The answer is complete on the wire now: its content-length is all the client waits for.
  res.write(payload);
  const stop = drainThenEnd(req, () => res.end(), bounds, clock);
  // The client hung up, or a server limit (the request timeout) destroyed the socket first.
  res.once('close', stop);
}

/**
 * Reads and discards `body` until it ends, `lingerBytes` more have arrived, or `lingerMs` passed,
 * then calls `end` once. Returns a cancel that stops draining without calling `end`.
 */
export function drainThenEnd(body: Readable, end: () => void, bounds: LingerBounds, clock: Clock): () => void {
  let drained = 0;
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clock.clearTimeout(timer);
    body.off('data', onData);
    body.off('end', finish);
  };
  const finish = (): void => {
    if (stopped) return;
    stop();
    end();
  };
  const onData = (chunk: Buffer): void => {
    drained += chunk.length;
    if (drained > bounds.lingerBytes) finish();
  };
  const timer = clock.setTimeout(finish, bounds.lingerMs);
  body.on('data', onData);
  body.once('end', finish);
  // Paused at the limit by the body reader, or never read at all.
  body.resume();
  return stop;
}

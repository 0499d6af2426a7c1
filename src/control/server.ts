import { chmodSync, chownSync } from 'node:fs';
import type { HttpLimits } from '../config/config.js';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorMessage } from '../errors.js';
import { systemClock } from '../util/clock.js';
import type { Logger } from '../log/logger.js';
import { errorBody, HttpError, sendError } from './http.js';
import { answerThenLinger } from './linger.js';
import { findRoute } from './path-params.js';
import { routes, type RouteDeps } from './routes.js';
import { prepareSocketPath, resolveGroup } from './socket-path.js';

export interface ControlServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

export interface ControlServerOptions {
  readonly socketPath: string;
  /** Opens the socket to one group (mode 0660); absent, only the owner may connect (0600). */
  readonly socketGroup?: string;
  readonly limits: HttpLimits;
  readonly deps: RouteDeps;
  readonly log: Logger;
}

/**
 * The control socket: HTTP/1.1 over a Unix socket, JSON in and out. Only the owner can connect
 * (mode 0600 in a 0700 directory). Every failure is answered as `{error:{code,message}}`; an
 * unexpected one is a 500 that is logged and never takes the server down.
 */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const table = routes(options.deps);
  const { limits } = options;
  const server: Server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.timeoutCheckIntervalMs,
    },
    (req, res) => {
      // A rejection here would be an unhandled one, and a throw in this listener takes the process down.
      void serve(req, res).catch(() => res.destroy());
    },
  );

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let path: string | undefined;
    try {
      // Node's parser takes a request line without a version as HTTP/0.9; this API is HTTP/1.x only.
      if (req.httpVersionMajor !== 1) {
        throw new HttpError(400, 'UnsupportedHttpVersion', `HTTP/${req.httpVersion} is not supported; use HTTP/1.1`);
      }
      const url = requestUrl(req.url);
      path = url.pathname;
      const found = findRoute(table, url.pathname);
      if (!found) throw new HttpError(404, 'NotFound', `no route ${url.pathname}`);
      const methods = found.entry;
      const method = req.method ?? 'GET';
      const handler = Object.hasOwn(methods, method) ? methods[method] : undefined;
      if (!handler) {
        res.setHeader('allow', Object.keys(methods).join(', '));
        throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed on ${url.pathname}`);
      }
      await handler(req, res, url, found.params);
    } catch (error: unknown) {
      const expected = error instanceof HttpError;
      if (!expected) {
        options.log.error('Request failed', { method: req.method, path: path ?? req.url, error: errorMessage(error) });
      }
      // Part of an answer is on the wire, or the client is gone: nothing more can be said on this socket.
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      const answer = expected ? error : new HttpError(500, 'InternalError', 'the agent failed to handle the request; see its log');
      // An answer given before the body was read closes the connection rather than reading however
      // much the client still means to send, but only after a bounded drain: see answerThenLinger.
      if (hasUnreadBody(req)) answerThenLinger(req, res, answer.status, JSON.stringify(errorBody(answer)), limits, systemClock);
      else sendError(res, answer);
    }
  }

  // Past this many open connections new ones are refused, so no client can exhaust the agent.
  server.maxConnections = limits.maxConnections;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket, limits));
  // Without a listener Node drops a CONNECT without a word; the agent tunnels nothing, so it says so.
  server.on('connect', (req: IncomingMessage, socket: Duplex) =>
    answerRaw(socket, 405, 'MethodNotAllowed', `${req.method} is not allowed on ${req.url}`),
  );

  const gid = options.socketGroup === undefined ? undefined : resolveGroup(options.socketGroup);
  await prepareSocketPath(options.socketPath, gid);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A umask-restricted listen, then chmod: the socket is never reachable by others, even briefly.
    const previous = process.umask(0o177);
    try {
      server.listen(options.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(previous);
    }
  });
  if (gid === undefined) {
    chmodSync(options.socketPath, 0o600);
  } else {
    chownSync(options.socketPath, -1, gid);
    chmodSync(options.socketPath, 0o660);
  }
  options.log.info('Control socket listening', { socket: options.socketPath, group: options.socketGroup ?? null });

  return {
    socketPath: options.socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Origin-form (`/v1/tasks?…`) or absolute-form targets; anything `URL` cannot parse is a 400. */
function requestUrl(target: string | undefined): URL {
  try {
    return new URL(target ?? '/', 'http://agent');
  } catch {
    throw new HttpError(400, 'InvalidRequestTarget', `request target ${JSON.stringify(target)} is not a valid path`);
  }
}

function hasUnreadBody(req: IncomingMessage): boolean {
  const declared = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (declared !== undefined && declared !== '0');
  return hasBody && !req.complete;
}

/** How long an error answer to a broken request may take to flush before the socket is dropped. */
const CLIENT_ERROR_FLUSH_MS = 1_000;

/**
 * Answers a request Node's HTTP parser rejected (bad syntax, headers too large, too slow) with the
 * status Node itself would use and the agent's JSON error body, then closes the connection. Nothing
 * is written when the client is gone or part of a response is already on the wire, since the
 * bytes would land inside that response.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, limits: HttpLimits): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, code, message] = clientErrorAnswer(error, limits);
  answerRaw(socket, status, code, message);
}

/** Writes a whole error answer straight to the socket (there is no ServerResponse), then closes it. */
function answerRaw(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
  ].join('\r\n');
  // Once the HTTP server let go of the socket, an EPIPE here would otherwise be an uncaught error.
  socket.on('error', () => socket.destroy());
  // A client that does not read must not keep the socket: it is dropped once flushed, or soon.
  const timer = setTimeout(() => socket.destroy(), CLIENT_ERROR_FLUSH_MS);
  timer.unref();
  socket.end(`${head}\r\n\r\n${body}`, () => {
    clearTimeout(timer);
    socket.destroy();
  });
}

function clientErrorAnswer(error: NodeJS.ErrnoException, limits: HttpLimits): [number, string, string] {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'HeadersTooLarge', `request headers exceed ${limits.maxHeaderBytes} bytes`];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'RequestTimeout', 'the request was not received in time'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'PayloadTooLarge', 'chunk extensions are too large'];
    default:
      return [400, 'BadRequest', 'the request is not valid HTTP/1.1'];
  }
}

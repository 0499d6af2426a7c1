import { chmodSync, chownSync } from 'node:fs';
import type { HttpLimits } from '../config/config.js';
import { createServer, type Server } from 'node:http';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { HttpError, sendError } from './http.js';
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
    const url = new URL(req.url ?? '/', 'http://agent');
    const methods = table.get(url.pathname);
    const handler = methods?.[req.method ?? 'GET'];
    const run = async (): Promise<void> => {
      if (!methods) throw new HttpError(404, 'NotFound', `no route ${url.pathname}`);
      if (!handler) {
        res.setHeader('allow', Object.keys(methods).join(', '));
        throw new HttpError(405, 'MethodNotAllowed', `${req.method} is not allowed on ${url.pathname}`);
      }
      await handler(req, res, url);
    };
    run().catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) {
        if (error.status === 413) res.setHeader('connection', 'close');
        sendError(res, error);
        return;
      }
      options.log.error('Request failed', { method: req.method, path: url.pathname, error: errorMessage(error) });
      sendError(res, new HttpError(500, 'InternalError', 'the agent failed to handle the request; see its log'));
    });
    },
  );
  // Past this many open connections new ones are refused, so no client can exhaust the agent.
  server.maxConnections = limits.maxConnections;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

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

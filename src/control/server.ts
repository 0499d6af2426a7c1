import { chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { HttpError, sendError } from './http.js';
import { routes, type RouteDeps } from './routes.js';
import { prepareSocketPath } from './socket-path.js';

export interface ControlServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

export interface ControlServerOptions {
  readonly socketPath: string;
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
  const server: Server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000 }, (req, res) => {
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
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  await prepareSocketPath(options.socketPath);
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
  chmodSync(options.socketPath, 0o600);
  options.log.info('Control socket listening', { socket: options.socketPath });

  return {
    socketPath: options.socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

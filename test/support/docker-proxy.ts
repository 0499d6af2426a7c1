import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * The Docker API on a unix socket of the test's own, passed through to the real daemon, except
 * the calls a test chooses to hold: those are answered never, as by a daemon that hangs, and
 * reach Docker never (they are dropped when the caller goes away). It lets a test stop the agent
 * with a Docker call in flight that Docker has not acted on. Run the agent with
 * `--docker-host unix://<socketPath>`.
 */
export class DockerProxy {
  /** `METHOD /path` of every call held so far. */
  readonly held: string[] = [];
  private holding: ((method: string, path: string) => boolean) | undefined;
  private readonly server: Server;

  private constructor(readonly socketPath: string) {
    this.server = createServer((req, res) => this.pass(req, res));
  }

  static async listen(socketPath: string): Promise<DockerProxy> {
    const proxy = new DockerProxy(socketPath);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(socketPath, resolve);
    });
    return proxy;
  }

  /** Calls matching `match` (the path without Docker's version prefix) are held from now on; none when undefined. */
  hold(match: ((method: string, path: string) => boolean) | undefined): void {
    this.holding = match;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pass(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').replace(/^\/v\d+\.\d+/, '');
    if (this.holding?.(req.method ?? 'GET', path)) {
      this.held.push(`${req.method} ${path}`);
      return;
    }
    const upstream = request({ socketPath: '/var/run/docker.sock', method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }
}

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { DockerodeClient, type DockerodeClientOptions } from '../../../src/docker/dockerode-client.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

export interface StubDaemon {
  /** Answers every request until a test sets another. */
  handler: Handler;
  /** A client of the stub, with short deadlines unless told otherwise. */
  client(options?: Partial<Pick<DockerodeClientOptions, 'timeoutMs' | 'pullTimeoutMs'>>): DockerodeClient;
}

/**
 * A stand-in Docker daemon on a Unix socket, for the file's tests: answers the adapter must
 * translate but a healthy real engine rarely gives (error lines in a pull, 500s, streams cut
 * mid-line), and request bodies to read.
 */
export function useStubDaemon(): StubDaemon {
  const socketPath = join(tmpdir(), `berth-stub-docker-${randomBytes(4).toString('hex')}.sock`);
  let server: Server;
  const daemon: StubDaemon = {
    handler: (_req, res) => json(res, 500, { message: 'no handler' }),
    client: (options = {}) => new DockerodeClient({ socketPath, timeoutMs: 2_000, pullTimeoutMs: 2_000, ...options }),
  };
  beforeAll(async () => {
    server = createServer((req, res) => daemon.handler(req, res, new URL(req.url ?? '/', 'http://docker')));
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return daemon;
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The JSON body of a request, once it has all arrived. */
export function bodyOf(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
    req.on('error', reject);
  });
}

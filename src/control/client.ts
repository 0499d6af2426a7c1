import { request } from 'node:http';

export interface ClientResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** Talks to a running agent over its control socket. Used by the CLI and by the tests. */
export class ControlClient {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 60_000,
  ) {}

  get<T = unknown>(path: string): Promise<ClientResponse<T>> {
    return this.send<T>('GET', path);
  }

  post<T = unknown>(path: string, body: unknown): Promise<ClientResponse<T>> {
    return this.send<T>('POST', path, body);
  }

  send<T = unknown>(method: string, path: string, body?: unknown): Promise<ClientResponse<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          // A fresh connection per request: a pooled keep-alive socket may belong to an agent
          // that has since restarted, and writing to it fails with EPIPE.
          agent: false,
          path,
          method,
          timeout: this.timeoutMs,
          headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // Not JSON (e.g. a 400 from the HTTP parser): hand back the raw text.
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from ${this.socketPath} within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }
}

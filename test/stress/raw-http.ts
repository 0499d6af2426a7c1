import { connect, type Socket } from 'node:net';

/**
 * A deliberately dumb HTTP/1.1 client over a Unix socket for hostile-input tests: it writes exactly
 * the bytes it is given, at the pace it is given, and reports what came back — an answer, a close
 * without one, or nothing at all within the deadline. `http.request` cannot send most of these.
 */

export type Part = string | Buffer | { readonly pauseMs: number };

export interface RawScript {
  /** Written in order; `{pauseMs}` waits between writes (slow clients). */
  readonly parts: readonly Part[];
  /** After the last part: half-close (`end`), hang up (`destroy`), or keep the connection open (`none`). */
  readonly then?: 'end' | 'destroy' | 'none';
  /** Stop writing as soon as any answer byte arrives (large uploads the server refuses early). */
  readonly stopWritingOnAnswer?: boolean;
  /** The request was HEAD: the answer has headers only, whatever its content-length says. */
  readonly head?: boolean;
}

export interface RawOutcome {
  /**
   * `answered`: a status line arrived (complete, or cut off by a close after it);
   * `closed`: the server closed without a byte of answer; `client-closed`: we hung up first
   * (`then: 'destroy'`); `hung`: nothing ended the exchange before the deadline.
   */
  readonly kind: 'answered' | 'closed' | 'client-closed' | 'hung';
  readonly status?: number;
  /** The `error.code` of the JSON error body, when there is one. */
  readonly code?: string;
  /** The socket error seen, if any (EPIPE while uploading into a closed connection, …). */
  readonly socketError?: string;
  readonly ms: number;
  /** The first bytes of the answer, for failure messages. */
  readonly head: string;
}

const HEADER_END = Buffer.from('\r\n\r\n');

export function rawExchange(socketPath: string, script: RawScript, deadlineMs: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket: Socket = connect(socketPath);
    let received: Buffer = Buffer.alloc(0);
    let socketError: string | undefined;
    let finished = false;
    let clientClosed = false;

    const finish = (kind: RawOutcome['kind']): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      const parsed = parseAnswer(received);
      // A close after a status line still counts as that answer; a deadline never does.
      const answered = kind === 'answered' || ((kind === 'closed' || kind === 'client-closed') && parsed.status !== undefined);
      resolve({
        kind: answered ? 'answered' : kind,
        ...(parsed.status === undefined ? {} : { status: parsed.status }),
        ...(parsed.code === undefined ? {} : { code: parsed.code }),
        ...(socketError === undefined ? {} : { socketError }),
        ms: performance.now() - started,
        head: received.subarray(0, 300).toString('latin1'),
      });
    };
    const timer = setTimeout(() => finish('hung'), deadlineMs);

    socket.on('data', (chunk: Buffer) => {
      received = skipInterim(Buffer.concat([received, chunk]));
      if (isComplete(received, script.head === true)) finish('answered');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      socketError = error.code ?? error.message;
    });
    socket.on('close', () => finish(clientClosed ? 'client-closed' : 'closed'));
    socket.on('connect', () => {
      void (async () => {
        for (const part of script.parts) {
          if (finished || socket.destroyed) return;
          if (script.stopWritingOnAnswer && received.length > 0) return;
          if (typeof part === 'object' && !Buffer.isBuffer(part)) {
            await sleep(part.pauseMs);
            continue;
          }
          // Waiting for each write lets answers be read between them, as a real uploader would.
          await new Promise<void>((done) => socket.write(part, () => done()));
        }
        if (finished || socket.destroyed) return;
        if (script.then === 'end') socket.end();
        if (script.then === 'destroy') {
          clientClosed = true;
          socket.destroy();
        }
      })();
    });
  });
}

/** Drops `100 Continue` and other 1xx heads: they precede the answer. */
function skipInterim(bytes: Buffer): Buffer {
  for (;;) {
    if (!/^HTTP\/1\.[01] 1\d\d/.test(bytes.subarray(0, 12).toString('latin1'))) return bytes;
    const end = bytes.indexOf(HEADER_END);
    if (end < 0) return bytes;
    bytes = bytes.subarray(end + HEADER_END.length);
  }
}

/** Complete when the headers and their body (none for HEAD) have arrived. */
function isComplete(bytes: Buffer, head: boolean): boolean {
  const end = bytes.indexOf(HEADER_END);
  if (end < 0) return false;
  if (head) return true;
  const headers = bytes.subarray(0, end).toString('latin1');
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(headers);
  if (length) return bytes.length >= end + HEADER_END.length + Number(length[1]);
  if (/\r\ntransfer-encoding:\s*chunked/i.test(headers)) return bytes.subarray(-5).toString('latin1') === '0\r\n\r\n';
  return false;
}

function parseAnswer(bytes: Buffer): { status?: number; code?: string } {
  const line = /^HTTP\/1\.[01] (\d{3})/.exec(bytes.subarray(0, 20).toString('latin1'));
  if (!line) return {};
  const end = bytes.indexOf(HEADER_END);
  let code: string | undefined;
  if (end >= 0) {
    try {
      const body = JSON.parse(bytes.subarray(end + HEADER_END.length).toString('utf8')) as { error?: { code?: unknown } };
      if (typeof body.error?.code === 'string') code = body.error.code;
    } catch {
      // Not (all) JSON: the status is what matters.
    }
  }
  return { status: Number(line[1]), ...(code === undefined ? {} : { code }) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A request head with CRLF line ends; `headers` are written as given, duplicates and all. */
export function requestHead(method: string, target: string, headers: readonly (readonly [string, string])[] = []): string {
  return `${method} ${target} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/** Splits `text` into one part per byte with a pause between: a client sending headers slowly. */
export function dribble(text: string | Buffer, pauseMs: number, count = Number.POSITIVE_INFINITY): Part[] {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1');
  const parts: Part[] = [];
  for (let i = 0; i < Math.min(bytes.length, count); i++) {
    parts.push(bytes.subarray(i, i + 1), { pauseMs });
  }
  return parts;
}

/**
 * One kept-alive connection, one request at a time: for tests about what happens to connections
 * that stay open (the connection cap, 413 closing the connection).
 */
export class Connection {
  private received: Buffer = Buffer.alloc(0);
  private waiter: ((answer: { status: number; code?: string }) => void) | undefined;
  /** Resolves when the connection is closed, by either side. */
  readonly closed: Promise<void>;
  private isClosed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
    socket.on('data', (chunk: Buffer) => {
      this.received = skipInterim(Buffer.concat([this.received, chunk]));
      this.deliver();
    });
  }

  private deliver(): void {
    if (!this.waiter || !isComplete(this.received, false)) return;
    const answer = parseAnswer(this.received);
    this.received = Buffer.alloc(0);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter({ status: answer.status ?? 0, ...(answer.code === undefined ? {} : { code: answer.code }) });
  }

  static open(socketPath: string): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect(socketPath);
      socket.once('connect', () => resolve(new Connection(socket)));
      socket.once('error', reject);
    });
  }

  get open(): boolean {
    return !this.isClosed;
  }

  /** Sends `bytes` and resolves with the answer, or rejects if the connection closes or `ms` pass first. */
  ask(bytes: string | Buffer, ms = 5_000): Promise<{ status: number; code?: string }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      this.waiter = (answer) => {
        clearTimeout(timer);
        resolve(answer);
      };
      void this.closed.then(() => {
        clearTimeout(timer);
        if (this.waiter) reject(new Error('connection closed without an answer'));
      });
      if (bytes.length > 0) this.socket.write(bytes);
      this.deliver();
    });
  }

  write(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  /** The answer that arrives next, without sending anything. */
  next(ms = 5_000): Promise<{ status: number; code?: string }> {
    return this.ask(Buffer.alloc(0), ms);
  }

  close(): void {
    this.socket.destroy();
  }
}

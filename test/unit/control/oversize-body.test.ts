import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpLimits } from '../../../src/config/config.js';
import { MAX_BODY_BYTES } from '../../../src/control/http.js';
import { LoggedAgent } from '../../stress/logged-agent.js';
import { requestHead } from '../../stress/raw-http.js';

/**
 * Issue 12 §6: a client that uploads a whole oversize body before reading (what a simple script
 * does) must read the 413, never `write EPIPE` or `ECONNRESET`. Closing a socket with unread bytes
 * in its receive queue resets it, so the agent has to keep reading (and discarding) after its
 * answer, for a bounded time and amount, the way nginx's lingering close does.
 */

let agent: LoggedAgent | undefined;

async function boot(http: Partial<HttpLimits> = {}): Promise<LoggedAgent> {
  agent = await new LoggedAgent().start(http);
  return agent;
}

afterEach(async () => {
  const a = agent;
  agent = undefined;
  if (!a) return;
  const errors = a.errors();
  await a.dispose();
  expect(errors).toEqual([]);
});

interface Upload {
  /** Every byte the server sent, read only after the whole upload was written. */
  readonly answer: string;
  /** The first socket error (EPIPE, ECONNRESET…), if any. */
  readonly error?: string;
  /** The server ended the connection (EOF) rather than the deadline. */
  readonly serverClosed: boolean;
  readonly ms: number;
}

/**
 * Writes `bytes` in full, then reads until the server closes. `first: 'upload'` reads nothing
 * before the last byte is written (a simple script); `'both'` reads the answer as it comes, as curl
 * does. Either way the upload only completes if the server keeps reading what it refused.
 */
function uploadThenRead(socketPath: string, bytes: Buffer, deadlineMs: number, first: 'upload' | 'both' = 'upload'): Promise<Upload> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(socketPath);
    if (first === 'upload') socket.pause();
    const chunks: Buffer[] = [];
    let error: string | undefined;
    let done = false;
    const finish = (serverClosed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ answer: Buffer.concat(chunks).toString('utf8'), ...(error === undefined ? {} : { error }), serverClosed, ms: performance.now() - started });
    };
    const timer = setTimeout(() => finish(false), deadlineMs);
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
      finish(false);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // Done once the server closed and the whole upload went out: a write still failing after the
    // answer arrived counts, as it does for a client that checks its writes.
    let written = false;
    let ended = false;
    socket.on('end', () => {
      ended = true;
      if (written) finish(true);
    });
    socket.on('connect', () =>
      socket.write(bytes, (e) => {
        if (e) return;
        written = true;
        socket.resume();
        if (ended) finish(true);
      }),
    );
  });
}

const TWO_MIB = 2 * 1024 * 1024;

function declaredUpload(size: number): Buffer {
  const head = requestHead('POST', '/v1/tasks', [['host', 'agent'], ['content-type', 'application/json'], ['content-length', String(size)]]);
  return Buffer.concat([Buffer.from(head), Buffer.alloc(size, 0x20)]);
}

function chunkedUpload(size: number): Buffer {
  const head = requestHead('POST', '/v1/tasks', [['host', 'agent'], ['content-type', 'application/json'], ['transfer-encoding', 'chunked']]);
  const piece = Buffer.alloc(64 * 1024, 0x20);
  const parts: Buffer[] = [Buffer.from(head)];
  for (let sent = 0; sent < size; sent += piece.length) parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

function expect413(upload: Upload, label: string): void {
  expect(upload.error, `${label}: ${upload.answer.slice(0, 200)}`).toBeUndefined();
  expect(upload.serverClosed, label).toBe(true);
  const [head, body] = upload.answer.split('\r\n\r\n', 2) as [string, string | undefined];
  expect(head, label).toMatch(/^HTTP\/1\.1 413 /);
  expect(head.toLowerCase(), label).toMatch(/\r\nconnection: close(\r\n|$)/);
  expect(JSON.parse(body ?? '')).toEqual({ error: { code: 'PayloadTooLarge', message: `request body exceeds ${MAX_BODY_BYTES} bytes` } });
}

describe('an oversize body is answered, never reset', () => {
  it('answers a 2 MiB upload, written in full before reading or read as it goes, 413 with Connection: close, 50 times out of 50', async () => {
    const a = await boot();
    const declared = declaredUpload(TWO_MIB);
    const chunked = chunkedUpload(TWO_MIB);
    // Five clients at a time, so the agent's answer and close race the uploads as under load.
    for (let round = 0; round < 10; round++) {
      const uploads = await Promise.all([
        uploadThenRead(a.config.socketPath, declared, 5_000),
        uploadThenRead(a.config.socketPath, chunked, 5_000),
        uploadThenRead(a.config.socketPath, declared, 5_000, 'both'),
        uploadThenRead(a.config.socketPath, chunked, 5_000, 'both'),
        uploadThenRead(a.config.socketPath, declared, 5_000),
      ]);
      uploads.forEach((u, i) => expect413(u, `round ${round}, client ${i}`));
    }
    expect((await a.client.get('/v1/health')).status).toBe(200);
  });
});

describe('the drain is bounded', () => {
  /** Writes the head, then body bytes as fast as the socket takes them until it closes or errors. */
  function endlessUpload(socketPath: string, deadlineMs: number): Promise<{ answer: string; ms: number; timedOut: boolean }> {
    return new Promise((resolve) => {
      const started = performance.now();
      const socket = connect(socketPath);
      const chunks: Buffer[] = [];
      const piece = Buffer.alloc(64 * 1024, 0x20);
      let done = false;
      const finish = (timedOut: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.destroy();
        resolve({ answer: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started, timedOut });
      };
      const timer = setTimeout(() => finish(true), deadlineMs);
      const pump = (): void => {
        while (!done && !socket.destroyed && socket.write(piece));
      };
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('drain', pump);
      socket.on('error', () => finish(false));
      socket.on('close', () => finish(false));
      socket.on('connect', () => {
        socket.write(requestHead('POST', '/v1/tasks', [['host', 'agent'], ['content-type', 'application/json'], ['content-length', String(1024 ** 4)]]));
        pump();
      });
    });
  }

  it('cuts off a client that never stops sending once lingerMs passes, after answering it', async () => {
    const a = await boot({ lingerMs: 300, lingerBytes: 1024 ** 4 });
    const outcome = await endlessUpload(a.config.socketPath, 5_000);
    expect(outcome.timedOut).toBe(false);
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(outcome.ms).toBeGreaterThanOrEqual(300);
    expect(outcome.ms).toBeLessThan(3_000);
    expect((await a.client.get('/v1/health')).status).toBe(200);
  });

  it('cuts off a client that never stops sending once lingerBytes more have arrived, long before lingerMs', async () => {
    const a = await boot({ lingerMs: 60_000, lingerBytes: 512 * 1024 });
    const outcome = await endlessUpload(a.config.socketPath, 5_000);
    expect(outcome.timedOut).toBe(false);
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(outcome.ms).toBeLessThan(3_000);
  });
});

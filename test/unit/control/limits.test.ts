import { afterEach, describe, expect, it } from 'vitest';
import type { HttpLimits } from '../../../src/config/config.js';
import { MAX_BODY_BYTES } from '../../../src/control/http.js';
import { LoggedAgent } from '../../stress/logged-agent.js';
import { Connection, dribble, rawExchange, requestHead, sleep, type Part } from '../../stress/raw-http.js';

/**
 * The control socket's limits, each with small values so the tests are quick: header size,
 * headers timeout, request timeout, concurrent connections, body size. Besides the status, each
 * test proves the connection does not linger and the agent logged no failure of its own.
 */

let agent: LoggedAgent | undefined;

async function boot(http: Partial<HttpLimits> = {}): Promise<LoggedAgent> {
  agent = await new LoggedAgent().start({
    maxConnections: 32,
    maxHeaderBytes: 2048,
    headersTimeoutMs: 300,
    requestTimeoutMs: 800,
    keepAliveTimeoutMs: 10_000,
    timeoutCheckIntervalMs: 100,
    lingerMs: 300,
    lingerBytes: 4 * 1024 * 1024,
    ...http,
  });
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

const get = (target: string, extra: [string, string][] = []): string => requestHead('GET', target, [['host', 'agent'], ...extra]);
const post = (headers: [string, string][]): string =>
  requestHead('POST', '/v1/tasks', [['host', 'agent'], ['content-type', 'application/json'], ...headers]);

async function stillServes(a: LoggedAgent): Promise<void> {
  expect((await a.client.get('/v1/health')).status).toBe(200);
}

describe('header size', () => {
  it('answers headers over maxHeaderBytes 431 and closes; headers under it are served', async () => {
    const a = await boot();
    const path = a.config.socketPath;
    const under = await rawExchange(path, { parts: [get('/v1/health', [['x-pad', 'p'.repeat(1500)]])] }, 2_000);
    expect(under).toMatchObject({ kind: 'answered', status: 200 });

    const oneBig = await rawExchange(path, { parts: [get('/v1/health', [['x-pad', 'p'.repeat(4000)]])], then: 'none' }, 2_000);
    expect(oneBig).toMatchObject({ kind: 'answered', status: 431, code: 'HeadersTooLarge' });
    const many = Array.from({ length: 200 }, (_, i): [string, string] => [`x-h${i}`, 'v'.repeat(10)]);
    const manySmall = await rawExchange(path, { parts: [get('/v1/health', many)], then: 'none' }, 2_000);
    expect(manySmall).toMatchObject({ kind: 'answered', status: 431 });
    const longTarget = await rawExchange(path, { parts: [get(`/v1/tasks?taskarn=${'a'.repeat(3000)}`)], then: 'none' }, 2_000);
    expect(longTarget).toMatchObject({ kind: 'answered', status: 431 });

    const conn = await Connection.open(path);
    await expect(conn.ask(get('/v1/health', [['x-pad', 'p'.repeat(4000)]]))).resolves.toMatchObject({ status: 431 });
    await conn.closed;
    await stillServes(a);
  });
});

describe('headers timeout', () => {
  it('cuts off a client that sends a few header bytes one at a time and then stops: 408, then close', async () => {
    const a = await boot();
    const started = Date.now();
    const outcome = await rawExchange(
      a.config.socketPath,
      { parts: dribble(get('/v1/health'), 20, 10), then: 'none' },
      5_000,
    );
    expect(outcome).toMatchObject({ kind: 'answered', status: 408, code: 'RequestTimeout' });
    // headersTimeoutMs plus one check interval, with room for a busy machine; far from the 5 s deadline.
    expect(Date.now() - started).toBeLessThan(2_000);
    await stillServes(a);
  });

  it('cuts off a client still dribbling its headers when the timeout passes', async () => {
    const a = await boot();
    // 50 ms a byte: the whole head would take over 2 s.
    const outcome = await rawExchange(a.config.socketPath, { parts: dribble(get('/v1/health'), 50), then: 'none' }, 5_000);
    expect(outcome).toMatchObject({ kind: 'answered', status: 408 });
    expect(outcome.ms).toBeLessThan(2_000);
  });

  it('serves a client whose headers are slow but complete within the timeout', async () => {
    const a = await boot({ headersTimeoutMs: 3_000, requestTimeoutMs: 5_000 });
    const outcome = await rawExchange(a.config.socketPath, { parts: dribble(get('/v1/health'), 5) }, 5_000);
    expect(outcome).toMatchObject({ kind: 'answered', status: 200 });
  });
});

describe('request timeout', () => {
  it('cuts off a body dribbled past requestTimeoutMs with 408, creates nothing and logs no failure', async () => {
    const a = await boot();
    const body = JSON.stringify({ arn: 'arn:test:task/slow', family: 'f', version: 1, containers: [] }).padEnd(200, ' ');
    const started = Date.now();
    const outcome = await rawExchange(
      a.config.socketPath,
      { parts: [post([['content-length', String(body.length)]]), ...dribble(body, 50)], then: 'none' },
      5_000,
    );
    expect(outcome).toMatchObject({ kind: 'answered', status: 408, code: 'RequestTimeout' });
    expect(Date.now() - started).toBeLessThan(3_000);
    // The handler was waiting on that body: it must settle quietly, not as a logged 500.
    await sleep(200);
    expect((await a.client.get<{ tasks: unknown[] }>('/v1/tasks')).body.tasks).toEqual([]);
  });

  it('answers a body cut short by the client (half-close) 400 and one abandoned mid-body with nothing logged', async () => {
    const a = await boot();
    const halfClosed = await rawExchange(
      a.config.socketPath,
      { parts: [post([['content-length', '100']]), '{"arn":"x"'], then: 'end' },
      2_000,
    );
    expect(halfClosed).toMatchObject({ kind: 'answered', status: 400 });
    const abandoned = await rawExchange(
      a.config.socketPath,
      { parts: [post([['content-length', '100']]), '{"arn":"x"'], then: 'destroy' },
      2_000,
    );
    expect(abandoned.kind).toBe('client-closed');
    await sleep(200);
    await stillServes(a);
  });
});

describe('connection cap', () => {
  it('closes connections past maxConnections while the open ones keep working, and reuses a freed slot', async () => {
    const a = await boot({ maxConnections: 4 });
    const path = a.config.socketPath;
    const held = await Promise.all([1, 2, 3, 4].map(() => Connection.open(path)));
    for (const c of held) expect(await c.ask(get('/v1/health'))).toMatchObject({ status: 200 });

    const extra = await rawExchange(path, { parts: [get('/v1/health')] }, 2_000);
    expect(extra.kind).toBe('closed');
    expect(extra.status).toBeUndefined();

    for (const c of held) expect(await c.ask(get('/v1/health'))).toMatchObject({ status: 200 });
    held[0]!.close();
    // The server counts the connection gone once it sees the close; give it a moment.
    let again = await rawExchange(path, { parts: [get('/v1/health')] }, 2_000);
    for (let i = 0; again.kind !== 'answered' && i < 20; i++) {
      await sleep(50);
      again = await rawExchange(path, { parts: [get('/v1/health')] }, 2_000);
    }
    expect(again).toMatchObject({ kind: 'answered', status: 200 });
    for (const c of held.slice(1)) c.close();
  });
});

describe('body size', () => {
  it('answers a declared oversize body 413 at once and closes the connection once lingerMs passes without the body', async () => {
    const a = await boot();
    const conn = await Connection.open(a.config.socketPath);
    const answer = await conn.ask(post([['content-length', String(MAX_BODY_BYTES + 1)]]));
    expect(answer).toMatchObject({ status: 413, code: 'PayloadTooLarge' });
    await expect(Promise.race([conn.closed.then(() => 'closed'), sleep(1_000).then(() => 'open')])).resolves.toBe('closed');
  });

  it('answers a chunked body that grows past the limit mid-upload 413, then closes', async () => {
    const a = await boot({ requestTimeoutMs: 10_000, headersTimeoutMs: 2_000 });
    const piece = Buffer.alloc(64 * 1024, 0x20);
    const parts: Part[] = [post([['transfer-encoding', 'chunked']])];
    // Slowly enough that the body is still arriving when the limit is crossed.
    for (let sent = 0; sent <= MAX_BODY_BYTES + piece.length; sent += piece.length) {
      parts.push(`${piece.length.toString(16)}\r\n`, piece, '\r\n', { pauseMs: 5 });
    }
    parts.push({ pauseMs: 2_000 });
    const outcome = await rawExchange(a.config.socketPath, { parts, stopWritingOnAnswer: true, then: 'none' }, 5_000);
    expect(outcome).toMatchObject({ kind: 'answered', status: 413, code: 'PayloadTooLarge' });
    expect(outcome.ms).toBeLessThan(3_000);
    await stillServes(a);
  });

  it('closes the connection after an error answered before the body was read (415) once lingerMs passes without the body', async () => {
    const a = await boot({ requestTimeoutMs: 10_000, headersTimeoutMs: 2_000 });
    const conn = await Connection.open(a.config.socketPath);
    const head = requestHead('POST', '/v1/tasks', [['host', 'agent'], ['content-type', 'text/plain'], ['content-length', '500000']]);
    expect(await conn.ask(head)).toMatchObject({ status: 415, code: 'UnsupportedMediaType' });
    await expect(Promise.race([conn.closed.then(() => 'closed'), sleep(1_000).then(() => 'open')])).resolves.toBe('closed');
  });
});

describe('request line', () => {
  it('answers a target URL cannot parse 400 (it used to throw out of the request listener)', async () => {
    const a = await boot();
    for (const target of ['//', 'http://[', 'http://agent:99999/v1/health', '//:/']) {
      const outcome = await rawExchange(a.config.socketPath, { parts: [get(target)] }, 2_000);
      expect(outcome, target).toMatchObject({ kind: 'answered', status: 400, code: 'InvalidRequestTarget' });
    }
    await stillServes(a);
  });

  it('answers a request line without a version (HTTP/0.9 to Node) or with HTTP/2.0 400 instead of serving it', async () => {
    const a = await boot();
    for (const line of ['GET /v1/health', 'GET /v1/health HTTP/2.0', 'GET /v1/health HTTP/0.9']) {
      const outcome = await rawExchange(a.config.socketPath, { parts: [`${line}\r\nhost: a\r\n\r\n`], then: 'none' }, 2_000);
      expect(outcome, line).toMatchObject({ kind: 'answered', status: 400, code: 'UnsupportedHttpVersion' });
    }
    const old = await rawExchange(a.config.socketPath, { parts: ['GET /v1/health HTTP/1.0\r\n\r\n'] }, 2_000);
    expect(old).toMatchObject({ kind: 'answered', status: 200 });
  });

  it('answers CONNECT 405 instead of dropping the connection without a word', async () => {
    const a = await boot();
    const outcome = await rawExchange(a.config.socketPath, { parts: [requestHead('CONNECT', 'agent:80', [['host', 'agent:80']])] }, 2_000);
    expect(outcome).toMatchObject({ kind: 'answered', status: 405, code: 'MethodNotAllowed' });
  });

  it('answers what the HTTP parser rejects 400 with a JSON error, then closes', async () => {
    const a = await boot();
    for (const bytes of ['HELLO\r\n\r\n', 'get /v1/health HTTP/1.1\r\nhost: a\r\n\r\n', 'GET /v1/health HTTP/1.1\r\nhost: a\r\nx: a\0b\r\n\r\n']) {
      const outcome = await rawExchange(a.config.socketPath, { parts: [bytes], then: 'none' }, 2_000);
      expect(outcome, JSON.stringify(bytes)).toMatchObject({ kind: 'answered', status: 400, code: 'BadRequest' });
    }
  });
});

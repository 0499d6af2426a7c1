import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RouteDeliveryError } from '../../../src/errors.js';
import { commandBackend } from '../../../src/routes/backends/command-backend.js';
import { fileBackend } from '../../../src/routes/backends/file-backend.js';
import { redactedUrl, webhookBackend } from '../../../src/routes/backends/webhook-backend.js';
import type { RouteRecord } from '../../../src/routes/route-record.js';

const record: RouteRecord = {
  kind: 'action',
  seq: 7,
  action: 'start',
  at: 'T',
  container: { id: 'abc', task: 't', name: 'app', service: 'web/app', labels: {}, bindings: [], status: 'RUNNING' },
};
const signal = new AbortController().signal;
const dir = mkdtempSync(join(tmpdir(), 'berth-backends-'));

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function receiver(answer: (req: IncomingMessage, body: string) => number | 'hang'): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const status = answer(req, body);
      if (status !== 'hang') res.writeHead(status).end('why');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

async function failure(p: Promise<void>): Promise<RouteDeliveryError> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(RouteDeliveryError);
  return error as RouteDeliveryError;
}

describe('webhook backend', () => {
  it('POSTs the record as JSON with its headers and X-Berth-Seq; 2xx delivers', async () => {
    const seen: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
    const url = await receiver((req, body) => (seen.push({ headers: req.headers, body }), 204));
    await webhookBackend('r', { url, headers: { authorization: 'Bearer t' }, timeoutMs: 1000 }).deliver(record, signal);
    expect(JSON.parse(seen[0]!.body)).toEqual(record);
    expect(seen[0]!.headers).toMatchObject({ authorization: 'Bearer t', 'x-berth-seq': '7', 'content-type': 'application/json' });
  });

  it.each([[503, true], [429, true], [408, true], [400, false], [404, false]])('an answer %i is retryable: %s', async (status, retryable) => {
    const url = await receiver(() => status);
    const error = await failure(webhookBackend('r', { url, headers: {}, timeoutMs: 1000 }).deliver(record, signal));
    expect(error.retryable).toBe(retryable);
    expect(error.message).toContain(`answered ${status}: why`);
  });

  it('no answer within the timeout, or no server at all, is retryable', async () => {
    const url = await receiver(() => 'hang');
    const slow = await failure(webhookBackend('r', { url, headers: {}, timeoutMs: 50 }).deliver(record, signal));
    expect(slow).toMatchObject({ retryable: true, message: expect.stringContaining('no answer within 50 ms') });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = await failure(webhookBackend('r', { url: `http://127.0.0.1:${port}/hook`, headers: {}, timeoutMs: 1000 }).deliver(record, signal));
    expect(down).toMatchObject({ retryable: true, message: expect.stringContaining('ECONNREFUSED') });
  });

  it('never shows a password from the URL', () => {
    expect(redactedUrl('https://me:token@hooks.example/x')).toBe('https://***@hooks.example/x');
  });
});

describe('command backend', () => {
  it('gives the record as one JSON line on standard input; exit 0 delivers', async () => {
    const out = join(dir, 'cmd.out');
    await commandBackend('r', { argv: ['sh', '-c', `cat > ${out}`], timeoutMs: 5000 }).deliver(record, signal);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(record);
  });

  it('an exit status, the timeout, or a command that cannot run fails retryably with its standard error', async () => {
    const exited = await failure(commandBackend('r', { argv: ['sh', '-c', 'echo nope >&2; exit 3'], timeoutMs: 5000 }).deliver(record, signal));
    expect(exited).toMatchObject({ retryable: true, message: 'route r: command sh exited with status 3: nope' });
    const slow = await failure(commandBackend('r', { argv: ['sleep', '10'], timeoutMs: 50 }).deliver(record, signal));
    expect(slow.message).toContain('gave no answer within 50 ms');
    const missing = await failure(commandBackend('r', { argv: ['/nonexistent/notify'], timeoutMs: 1000 }).deliver(record, signal));
    expect(missing.message).toContain('could not be run');
  });
});

describe('file backend', () => {
  it('appends one line per record, keeping what was there', async () => {
    const path = join(dir, 'events.ndjson');
    const first = fileBackend('r', path);
    await first.deliver(record, signal);
    await first.close();
    const second = fileBackend('r', path);
    await second.deliver({ ...record, seq: 8 }, signal);
    await second.close();
    expect(readFileSync(path, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as RouteRecord).seq)).toEqual([7, 8]);
  });

  it('a file that cannot be opened fails retryably, naming it', async () => {
    const error = await failure(fileBackend('r', join(dir, 'no/such/dir/x')).deliver(record, signal));
    expect(error).toMatchObject({ retryable: true, message: expect.stringContaining('cannot append to') });
  });
});

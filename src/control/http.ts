import type { IncomingMessage, ServerResponse } from 'node:http';

/** An answer other than 2xx, carrying the stable code clients match on. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads a JSON body: 415 unless it is declared JSON, 413 past the limit, 400 when it does not parse. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(415, 'UnsupportedMediaType', 'request body must be application/json');
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, 'PayloadTooLarge', `request body exceeds ${MAX_BODY_BYTES} bytes`);
  const text = (await readBody(req, MAX_BODY_BYTES)).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, 'MalformedJson', `request body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Collects the body up to `limit` bytes. Past the limit it stops reading (the request is paused,
 * not destroyed: destroying an unfinished request destroys its socket, and the 413 with it). A
 * body cut off by the client or by the request timeout is the client's fault: 400, never a 500.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      outcome();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        settle(() => reject(new HttpError(413, 'PayloadTooLarge', `request body exceeds ${limit} bytes`)));
        return;
      }
      chunks.push(chunk);
    };
    const cutOff = (): void =>
      settle(() => reject(new HttpError(400, 'IncompleteBody', 'the request body ended before it was complete')));
    req.on('data', onData);
    req.once('end', () => settle(() => resolve(Buffer.concat(chunks))));
    // Kept after settling: a late 'error' with no listener would be thrown.
    req.on('error', cutOff);
    req.once('close', () => {
      if (!req.complete) cutOff();
    });
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, errorBody(error));
}

/** What every error answer carries: `{error:{code,message,…details}}`. */
export function errorBody(error: HttpError): { error: Record<string, unknown> } {
  return { error: { code: error.code, message: error.message, ...(error.details ?? {}) } };
}

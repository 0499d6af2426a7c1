import { request } from 'node:http';
import { ApiRefusal, errorBody, unreachable } from './api.js';

/** An open NDJSON answer. `ended` settles when the agent closes it or it breaks; never rejects. */
export interface NdjsonStream {
  readonly ended: Promise<{ error?: Error }>;
  close(): void;
}

/**
 * GETs `path` asking for newline-delimited JSON and calls `onLine` with each parsed line.
 * Resolves once the agent has answered 200 (so the server side is subscribed from then on);
 * rejects with the exit-coded CliError of an unreachable agent or an error answer.
 */
export function openNdjson(socketPath: string, path: string, onLine: (value: unknown) => void): Promise<NdjsonStream> {
  return new Promise((resolve, reject) => {
    let closing = false;
    const req = request({ socketPath, path, headers: { accept: 'application/x-ndjson' } }, (res) => {
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let raw: unknown = text;
          try {
            raw = JSON.parse(text);
          } catch {
            // Not JSON: shown as it came.
          }
          reject(new ApiRefusal(res.statusCode ?? 0, errorBody(raw), raw));
        });
        return;
      }
      let buffer = '';
      const ended = new Promise<{ error?: Error }>((settle) => {
        res.on('data', (chunk: Buffer) => {
          buffer += chunk.toString('utf8');
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (line === '' || closing) continue;
            let value: unknown;
            try {
              value = JSON.parse(line);
            } catch {
              // A torn line can only come from a broken connection; the next read fails anyway.
              continue;
            }
            onLine(value);
          }
        });
        res.on('end', () => settle({}));
        res.on('error', (error) => settle(closing ? {} : { error }));
        res.on('close', () => settle(closing || res.complete ? {} : { error: new Error('the agent closed the stream') }));
      });
      resolve({
        ended,
        close: () => {
          closing = true;
          req.destroy();
        },
      });
    });
    req.on('error', (error) => {
      if (!closing) reject(unreachable(socketPath, error));
    });
    req.end();
  });
}

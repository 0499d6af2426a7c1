import { RouteDeliveryError, errorMessage } from '../../errors.js';
import type { RouteBackend } from '../route-backend.js';
import type { RouteRecord } from '../route-record.js';
import { recordJson } from './record-json.js';

export interface WebhookOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

/** Answers that can change if asked again: the receiver is overloaded, rate-limiting or failing. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * POSTs each record as JSON. A 2xx answer delivers it; a 408, 429 or 5xx, a timeout or a
 * connection failure is retried by the route; any other answer means the receiver refuses this
 * record, so retrying cannot help. `X-Berth-Seq` carries the record's seq for de-duplication.
 */
export function webhookBackend(route: string, opts: WebhookOptions): RouteBackend {
  return {
    describe: `webhook ${redactedUrl(opts.url)}`,
    async deliver(record: RouteRecord, signal: AbortSignal): Promise<void> {
      const timeout = AbortSignal.timeout(opts.timeoutMs);
      let response: Response;
      try {
        response = await fetch(opts.url, {
          method: 'POST',
          headers: { ...opts.headers, 'content-type': 'application/json', 'x-berth-seq': String(record.seq) },
          body: recordJson(record),
          signal: AbortSignal.any([signal, timeout]),
        });
      } catch (error) {
        const why = timeout.aborted ? `no answer within ${opts.timeoutMs} ms` : errorMessage((error as { cause?: unknown }).cause ?? error);
        throw new RouteDeliveryError(route, `POST ${redactedUrl(opts.url)} failed: ${why}`, { cause: error, retryable: true });
      }
      // Read the body so the connection can be reused.
      const body = await response.text().catch(() => '');
      if (response.ok) return;
      throw new RouteDeliveryError(route, `POST ${redactedUrl(opts.url)} answered ${response.status}${body ? `: ${body.slice(0, 200)}` : ''}`, {
        retryable: retryableStatus(response.status),
      });
    },
    async close(): Promise<void> {},
  };
}

/** A URL's user and password (`https://user:token@host`) never reach logs, metrics or `state dump`. */
export function redactedUrl(url: string): string {
  const u = new URL(url);
  if (u.username || u.password) {
    u.username = '***';
    u.password = '';
  }
  return u.toString();
}

import type { RouteRecord } from './route-record.js';

/**
 * Where a route's records go: an NDJSON file, a webhook, a command. A backend delivers one record
 * per call and decides nothing else: the route's runner owns the cursor, ordering, retries and
 * backoff, so every backend gets the same guarantees.
 */
export interface RouteBackend {
  /** A short description for logs, metrics and `state dump`, e.g. `webhook http://127.0.0.1:9000/hook`. */
  readonly describe: string;
  /**
   * Resolves once the record is delivered (written, answered 2xx, exited 0). Throws
   * RouteDeliveryError when it was not: retryable unless retrying cannot help. Aborting `signal`
   * (the agent is stopping) ends the attempt at once with a retryable RouteDeliveryError.
   */
  deliver(record: RouteRecord, signal: AbortSignal): Promise<void>;
  /** Frees what the backend holds (open files); in-flight deliveries end first. */
  close(): Promise<void>;
}

import type { RouteRecord } from '../route-record.js';

/** A record as every backend sends it: one JSON object (one line in a file or on standard input). */
export function recordJson(record: RouteRecord): string {
  return JSON.stringify(record);
}

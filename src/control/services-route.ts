import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServiceRecord, ServicesIndex } from '../services/services-index.js';
import { allowOnly, flagParam } from './query.js';

/**
 * A watcher this far behind is cut off rather than slowing the agent; a new watch starts with
 * the whole list again, so it loses nothing by reconnecting.
 */
const MAX_STREAM_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * GET /v1/services — every running container as a service, by id (src/services/). With `watch=1`
 * an NDJSON stream: `added` for each current service, a `{"type":"synced"}` line, then `added` and
 * `removed` records as the state changes, until the client goes away. Served from the index, never
 * from Docker.
 */
export async function servicesRoute(services: ServicesIndex, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  allowOnly(url, ['watch']);
  if (!flagParam(url, 'watch')) {
    const body = services.listJson();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
    return;
  }
  const write = (line: ServiceRecord | { type: 'synced' }): void => {
    if (res.destroyed) return;
    res.write(`${JSON.stringify(line)}\n`);
    if (res.writableLength > MAX_STREAM_BUFFER_BYTES) res.destroy();
  };
  const closed = new Promise<void>((resolve) => (req.socket.destroyed ? resolve() : req.socket.once('close', resolve)));
  const { current, unsubscribe } = services.watch(write);
  try {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    for (const service of current) write({ type: 'added', service });
    write({ type: 'synced' });
    await closed;
  } finally {
    unsubscribe();
  }
}

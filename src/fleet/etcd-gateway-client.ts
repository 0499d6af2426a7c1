import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { EtcdCompactedError, EtcdUnavailableError, errorMessage } from '../errors.js';
import { prefixEnd, type EtcdClient, type EtcdKv, type EtcdWatch, type RangeResult, type WatchEvent, type WatchHandler } from './etcd-client.js';

/**
 * The etcd port over etcd's v3 JSON gateway (`/v3/...`, served by every etcd ≥ 3.4 on its client
 * URLs). Chosen over an npm gRPC client: it needs no dependency (node:http only), the gateway is
 * part of etcd itself, and the calls the fleet makes (range, watch, put, delete, leases, status) are
 * all plain JSON there. Keys and values travel base64-encoded, 64-bit numbers as decimal text.
 *
 * Endpoints are tried in turn: a call that cannot reach one (refused, reset, timed out) moves to the
 * next, so one member down changes nothing; when none answers the call fails with EtcdUnavailableError.
 */
export interface EtcdTlsFiles {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

export interface GatewayOptions {
  readonly endpoints: readonly string[];
  readonly tls?: EtcdTlsFiles;
  /** Deadline for one unary call on one endpoint. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 3_000;

export function gatewayClient(options: GatewayOptions): EtcdClient {
  return new GatewayClient(options);
}

interface RawKv {
  key: string;
  value?: string;
  mod_revision?: string;
  lease?: string;
}

class GatewayClient implements EtcdClient {
  private readonly endpoints: readonly URL[];
  private readonly agentOptions: https.AgentOptions;
  private readonly agents = new Map<string, http.Agent>();
  /** The endpoint that last answered: tried first. */
  private preferred = 0;
  private readonly watches = new Set<http.ClientRequest>();

  constructor(private readonly options: GatewayOptions) {
    if (options.endpoints.length === 0) throw new Error('etcd: no endpoints');
    this.endpoints = options.endpoints.map((e) => new URL(e));
    const tls = options.tls ?? {};
    this.agentOptions = {
      keepAlive: true,
      ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}),
      ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}),
      ...(tls.key ? { key: readFileSync(tls.key) } : {}),
    };
  }

  async range(prefix: string, options: { keysOnly?: boolean } = {}): Promise<RangeResult> {
    const body = await this.call<{ header: { revision: string }; kvs?: RawKv[] }>('/v3/kv/range', {
      key: b64(prefix),
      range_end: prefixEnd(prefix).toString('base64'),
      ...(options.keysOnly ? { keys_only: true } : {}),
    });
    return { revision: Number(body.header.revision), kvs: (body.kvs ?? []).map(kvOf) };
  }

  async put(key: string, value: string, options: { lease?: string } = {}): Promise<number> {
    const body = await this.call<{ header: { revision: string } }>('/v3/kv/put', {
      key: b64(key),
      value: b64(value),
      ...(options.lease ? { lease: options.lease } : {}),
    });
    return Number(body.header.revision);
  }

  async delete(key: string): Promise<number> {
    const body = await this.call<{ deleted?: string }>('/v3/kv/deleterange', { key: b64(key) });
    return Number(body.deleted ?? 0);
  }

  async grantLease(ttlSeconds: number): Promise<string> {
    const body = await this.call<{ ID: string; error?: string }>('/v3/lease/grant', { TTL: ttlSeconds });
    if (body.error) throw new EtcdUnavailableError(`etcd lease grant: ${body.error}`);
    return body.ID;
  }

  async keepAlive(lease: string): Promise<number> {
    // A streaming call on the gateway: one request in, the first answer out, then the stream ends.
    const body = await this.call<{ result?: { TTL?: string } }>('/v3/lease/keepalive', { ID: lease });
    return Number(body.result?.TTL ?? 0);
  }

  async revokeLease(lease: string): Promise<void> {
    await this.call('/v3/lease/revoke', { ID: lease });
  }

  async status(): Promise<{ version: string; revision: number }> {
    const body = await this.call<{ version: string; header: { revision: string } }>('/v3/maintenance/status', {});
    return { version: body.version, revision: Number(body.header.revision) };
  }

  watch(prefix: string, fromRevision: number, handler: WatchHandler): EtcdWatch {
    let done = false;
    let req: http.ClientRequest | undefined;
    const fail = (error: unknown): void => {
      if (done) return;
      done = true;
      if (req) this.watches.delete(req);
      req?.destroy();
      handler.onError(error);
    };
    const url = this.urlFor('/v3/watch');
    const payload = JSON.stringify({
      create_request: { key: b64(prefix), range_end: prefixEnd(prefix).toString('base64'), start_revision: String(fromRevision) },
    });
    req = this.transport(url).request(url, { method: 'POST', agent: this.agentFor(url), headers: { 'content-type': 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        fail(new EtcdUnavailableError(`etcd watch on ${url.origin}: HTTP ${res.statusCode}`));
        return;
      }
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        // The gateway writes one JSON object per message, each on its own line.
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line !== '' && !done) this.watchMessage(line, handler, fail);
        }
      });
      res.on('end', () => fail(new EtcdUnavailableError(`etcd watch on ${url.origin} ended`)));
      res.on('error', (error) => fail(new EtcdUnavailableError(`etcd watch on ${url.origin}: ${errorMessage(error)}`, { cause: error })));
    });
    this.watches.add(req);
    req.on('error', (error) => {
      // A refused endpoint: the next call (the caller's resume) starts from the next one.
      this.skip(url);
      fail(new EtcdUnavailableError(`etcd watch on ${url.origin}: ${errorMessage(error)}`, { cause: error }));
    });
    req.end(payload);
    return {
      cancel: () => {
        done = true;
        if (req) this.watches.delete(req);
        req?.destroy();
      },
    };
  }

  async close(): Promise<void> {
    for (const req of this.watches) req.destroy();
    this.watches.clear();
    for (const agent of this.agents.values()) agent.destroy();
  }

  private watchMessage(line: string, handler: WatchHandler, fail: (error: unknown) => void): void {
    const message = JSON.parse(line) as {
      result?: { canceled?: boolean; compact_revision?: string; cancel_reason?: string; events?: { type?: string; kv: RawKv }[] };
      error?: { message?: string };
    };
    if (message.error) return fail(new EtcdUnavailableError(`etcd watch: ${message.error.message ?? 'error'}`));
    const result = message.result ?? {};
    if (result.compact_revision && Number(result.compact_revision) > 0) return fail(new EtcdCompactedError(Number(result.compact_revision)));
    if (result.canceled) return fail(new EtcdUnavailableError(`etcd watch canceled: ${result.cancel_reason ?? 'no reason given'}`));
    const events: WatchEvent[] = (result.events ?? []).map((e) =>
      e.type === 'DELETE'
        ? { type: 'delete', key: unb64(e.kv.key), modRevision: Number(e.kv.mod_revision) }
        : { type: 'put', kv: kvOf(e.kv) },
    );
    if (events.length > 0) handler.onEvents(events);
  }

  /** One unary call, on each endpoint in turn from the preferred one until one answers. */
  private async call<T>(path: string, body: unknown): Promise<T> {
    const failures: string[] = [];
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (this.preferred + i) % this.endpoints.length;
      const url = new URL(path, this.endpoints[index]);
      try {
        const answer = await this.post<T>(url, body);
        this.preferred = index;
        return answer;
      } catch (error) {
        failures.push(`${url.origin}: ${errorMessage(error)}`);
      }
    }
    throw new EtcdUnavailableError(`no etcd endpoint answered ${path}: ${failures.join('; ')}`);
  }

  private post<T>(url: URL, body: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const req = this.transport(url).request(
        url,
        { method: 'POST', agent: this.agentFor(url), headers: { 'content-type': 'application/json' }, timeout: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('error', reject);
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
            try {
              // A streaming endpoint's answer is its first line.
              resolve(JSON.parse(text.split('\n')[0]!) as T);
            } catch (error) {
              reject(error);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }

  private urlFor(path: string): URL {
    return new URL(path, this.endpoints[this.preferred]);
  }

  private skip(url: URL): void {
    const index = this.endpoints.findIndex((e) => e.origin === url.origin);
    if (index === this.preferred) this.preferred = (index + 1) % this.endpoints.length;
  }

  private transport(url: URL): typeof http | typeof https {
    return url.protocol === 'https:' ? https : http;
  }

  private agentFor(url: URL): http.Agent {
    let agent = this.agents.get(url.origin);
    if (!agent) {
      agent = url.protocol === 'https:' ? new https.Agent(this.agentOptions) : new http.Agent({ keepAlive: true });
      this.agents.set(url.origin, agent);
    }
    return agent;
  }
}

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function unb64(text: string): string {
  return Buffer.from(text, 'base64').toString('utf8');
}

function kvOf(raw: RawKv): EtcdKv {
  return {
    key: unb64(raw.key),
    value: raw.value === undefined ? '' : unb64(raw.value),
    modRevision: Number(raw.mod_revision ?? 0),
    ...(raw.lease && raw.lease !== '0' ? { lease: raw.lease } : {}),
  };
}

import type { ParseOptions } from '../api/schema.js';
import { DEFAULTS, type EtcdConfig } from '../config/config.js';
import type { TaskEngine } from '../engine/task-engine.js';
import type { Logger } from '../log/logger.js';
import { registerEtcdMetrics } from '../metrics/etcd-metrics.js';
import type { AgentMetrics } from '../metrics/metrics.js';
import { EtcdSource } from '../sources/etcd/etcd-source.js';
import type { TaskSource } from '../sources/task-source.js';
import type { Clock, Random } from '../util/clock.js';
import { Alive } from './alive.js';
import type { EtcdClient } from './etcd-client.js';
import { gatewayClient } from './etcd-gateway-client.js';
import { EtcdLink } from './etcd-link.js';
import { StatusWriter } from './status-writer.js';

export interface FleetParts {
  readonly config: EtcdConfig;
  readonly agentId: string;
  readonly version: string;
  readonly engine: TaskEngine;
  readonly metrics: AgentMetrics;
  /** What the agent's settings allow in a task, as for the API. */
  readonly parse: ParseOptions;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  /** Absent: the JSON gateway on the configured endpoints (tests give a FakeEtcd). */
  readonly client?: EtcdClient;
}

/** The agent's part in a fleet on etcd: its tasks/ keys in, its status/ and alive keys out. */
export interface Fleet {
  readonly host: string;
  /** The `etcd` task source, for the merger to register (it starts and stops it with the others). */
  readonly source: TaskSource;
  /** Starts writing status and liveness, once the engine has started. */
  start(): Promise<void>;
  /** Health's `etcd` check (degraded, never unhealthy). */
  check(): { ok: boolean; detail: string };
  /** Stops writing status and liveness; the merger stops the source. */
  stop(): Promise<void>;
}

/**
 * Makes the fleet parts; `start` begins the status and liveness writes after the engine has
 * started. None of them fails the start when etcd is down: each retries, and health reports it.
 */
export function fleetOf(parts: FleetParts): Fleet {
  const { config, clock, random, engine } = parts;
  const host = config.hostName ?? parts.agentId;
  const log = parts.log.child({ component: 'fleet', host });
  const client = parts.client ?? gatewayClient({ endpoints: config.endpoints, ...(config.tls ? { tls: config.tls } : {}) });
  const link = new EtcdLink(clock);
  const common = { client, prefix: config.prefix, host, clock, log, link };
  let countWrite = (): void => undefined;
  const writer = new StatusWriter({
    ...common,
    random,
    intervalMs: DEFAULTS.etcdStatusIntervalMs,
    backoff: DEFAULTS.etcdBackoff,
    onWritten: () => countWrite(),
  });
  countWrite = registerEtcdMetrics(parts.metrics, { up: () => link.up(), pending: () => writer.pending() });
  const alive = new Alive({
    ...common,
    ttlSeconds: config.leaseTtlSeconds,
    value: { agentId: parts.agentId, version: parts.version, startedAt: new Date(clock.now()).toISOString() },
  });
  return {
    host,
    source: new EtcdSource({ ...common, parse: parts.parse, random, backoff: DEFAULTS.etcdBackoff }),
    start: async () => {
      await writer.start(engine);
      await alive.start();
      log.info('Fleet on etcd started', { endpoints: config.endpoints, prefix: config.prefix });
    },
    check: () => link.check(),
    stop: async () => {
      await alive.stop();
      await writer.stop();
      await client.close();
    },
  };
}

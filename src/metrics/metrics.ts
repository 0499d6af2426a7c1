import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CONTAINER_STATUSES } from '../api/status.js';
import type { ContainerStatus } from '../api/status.js';
import type { ActionKind } from '../engine/actions.js';
import type { DockerOperation } from '../docker/docker-client.js';
import { registerUsageGauges, type UsageSource } from './usage-gauges.js';

/** What the engine holds right now, counted by known status. */
export interface StateCounts {
  readonly tasks: Readonly<Record<ContainerStatus, number>>;
  readonly containers: Readonly<Record<ContainerStatus, number>>;
}

export type StateSource = () => StateCounts;

export type TransitionResult = 'success' | 'failure';

/**
 * The `call` label of the Docker metrics. A closed set keeps the label's cardinality bounded;
 * it is the port's own operation list, so a test's `failNext(op)` reads like the metric.
 */
export type DockerCall = DockerOperation;

export interface AgentMetricsOptions {
  /** Prepended to every metric name, default `berth_`. */
  readonly prefix?: string;
  /**
   * Process and Node.js metrics (CPU, memory, event loop lag, GC), default true. Each call of
   * prom-client's collector installs its own event-loop and GC observers, which cannot be removed,
   * so short-lived instances (tests) may want to turn it off.
   */
  readonly defaultMetrics?: boolean;
}

// A Record rather than an array so that adding an action kind fails to compile until it is listed here.
const ACTION_KINDS: Readonly<Record<ActionKind, true>> = {
  inspect: true,
  pull: true,
  create: true,
  start: true,
  stop: true,
  abandon: true,
  cancel: true,
  'provision-volume': true,
  cleanup: true,
  retire: true,
  recreate: true,
};

/** From a cached inspect to a slow pull or a stop that waits out a long SIGTERM grace period. */
export const DOCKER_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** A SQLite transaction is usually sub-millisecond; the top buckets catch fsync stalls and lock waits. */
export const DB_WRITE_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/**
 * The agent's Prometheus metrics, in a registry of their own: prom-client's global registry would
 * make two agents in one process (and every test) share, and clash over, the same metric names.
 *
 * Metric names (with the default prefix) are a public contract; dashboards and alerts use them:
 * - `berth_tasks{status}`, `berth_containers{status}` (gauges, every status always present)
 * - `berth_transitions_total{kind,result}`, `berth_transition_duration_seconds{kind}`
 * - `berth_docker_api_errors_total{call,code}`, `berth_docker_api_duration_seconds{call}`
 * - `berth_event_stream_reconnects_total`, `berth_events_written_total`
 * - `berth_db_write_duration_seconds`, `berth_db_write_errors_total`
 * - `berth_images_removed_total`, `berth_containers_drifted_total`
 * - `berth_route_*` (src/metrics/route-metrics.ts)
 * - `berth_container_cpu_percent`, `berth_container_memory_usage_bytes`, `berth_container_memory_limit_bytes`,
 *   `berth_container_network_rx_bytes`, `…_tx_bytes`, `berth_container_block_read_bytes`, `…_write_bytes`
 *   (gauges, `{task_arn,task_family,container}`, one series per running container sampled: usage-gauges.ts)
 * - prom-client's process/Node.js metrics, under the same prefix
 */
export class AgentMetrics {
  readonly registry = new Registry();
  /** Metric names start with it; other modules' metrics (routes) register under it too. */
  readonly prefix: string;
  #stateSource: StateSource | undefined;
  #usageSource: UsageSource | undefined;

  readonly #transitions: Counter<'kind' | 'result'>;
  readonly #transitionSeconds: Histogram<'kind'>;
  readonly #dockerErrors: Counter<'call' | 'code'>;
  readonly #dockerSeconds: Histogram<'call'>;
  readonly #eventStreamReconnects: Counter;
  readonly #eventsWritten: Counter;
  readonly #dbWriteSeconds: Histogram;
  readonly #dbWriteErrors: Counter;
  readonly #imagesRemoved: Counter;
  readonly #containersDrifted: Counter;

  constructor(options: AgentMetricsOptions = {}) {
    const prefix = (this.prefix = options.prefix ?? 'berth_');
    const registers = [this.registry];
    const source = (): StateCounts | undefined => this.#stateSource?.();

    // Registered with the registry and filled at scrape time; nothing else holds them.
    new Gauge({
      name: `${prefix}tasks`,
      help: 'Tasks the agent holds, by known status.',
      labelNames: ['status'],
      registers,
      collect() {
        fillByStatus(this, source()?.tasks);
      },
    });
    new Gauge({
      name: `${prefix}containers`,
      help: 'Containers of the tasks the agent holds, by known status.',
      labelNames: ['status'],
      registers,
      collect() {
        fillByStatus(this, source()?.containers);
      },
    });
    this.#transitions = new Counter({
      name: `${prefix}transitions_total`,
      help: 'Actions the engine performed toward a desired status, by action kind and result.',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.#transitionSeconds = new Histogram({
      name: `${prefix}transition_duration_seconds`,
      help: 'How long each engine action took, successful or not, by action kind.',
      labelNames: ['kind'],
      buckets: [...DOCKER_BUCKETS],
      registers,
    });
    this.#dockerErrors = new Counter({
      name: `${prefix}docker_api_errors_total`,
      help:
        'Docker calls that failed, by call and error code (e.g. DockerUnavailable, DockerTimeout, ' +
        'ContainerNotFound; ContainerNotFound is often an expected answer, filter it as needed).',
      labelNames: ['call', 'code'],
      registers,
    });
    this.#dockerSeconds = new Histogram({
      name: `${prefix}docker_api_duration_seconds`,
      help: 'How long each Docker call took, failed calls included, by call.',
      labelNames: ['call'],
      buckets: [...DOCKER_BUCKETS],
      registers,
    });
    this.#eventStreamReconnects = new Counter({
      name: `${prefix}event_stream_reconnects_total`,
      help: 'Times the Docker event stream broke and was opened again.',
      registers,
    });
    this.#eventsWritten = new Counter({
      name: `${prefix}events_written_total`,
      help: 'State change events saved to the durable feed.',
      registers,
    });
    this.#dbWriteSeconds = new Histogram({
      name: `${prefix}db_write_duration_seconds`,
      help: 'How long each state database commit took, failed commits included.',
      buckets: [...DB_WRITE_BUCKETS],
      registers,
    });
    this.#dbWriteErrors = new Counter({
      name: `${prefix}db_write_errors_total`,
      help: 'State database commits that failed.',
      registers,
    });

    this.#containersDrifted = new Counter({
      name: `${prefix}containers_drifted_total`,
      help: 'Containers found changed behind the agent\'s back (drift), each counted once per instance.',
      registers,
    });

    this.#imagesRemoved = new Counter({
      name: `${prefix}images_removed_total`,
      help: 'Unused images the periodic image cleanup removed.',
      registers,
    });

    registerUsageGauges(this.registry, prefix, () => this.#usageSource?.() ?? []);

    // Zero series from the start, so rate() over a kind that has not run yet is 0 rather than absent.
    for (const kind of Object.keys(ACTION_KINDS) as ActionKind[]) {
      this.#transitions.inc({ kind, result: 'success' }, 0);
      this.#transitions.inc({ kind, result: 'failure' }, 0);
    }

    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix });
  }

  /**
   * Where the status gauges come from, read at every scrape. It should be cheap: it is called once
   * per gauge per scrape. An exception from it fails the scrape rather than showing stale numbers.
   */
  setStateSource(fn: StateSource): void {
    this.#stateSource = fn;
  }

  /** Where the container usage gauges come from (StatsPoller.latest), read at every scrape. */
  setUsageSource(fn: UsageSource): void {
    this.#usageSource = fn;
  }

  observeTransition(kind: ActionKind, result: TransitionResult, seconds: number): void {
    this.#transitions.inc({ kind, result });
    this.#transitionSeconds.observe({ kind }, seconds);
  }

  dockerError(call: DockerCall, code: string): void {
    this.#dockerErrors.inc({ call, code });
  }

  observeDockerCall(call: DockerCall, seconds: number): void {
    this.#dockerSeconds.observe({ call }, seconds);
  }

  eventStreamReconnect(): void {
    this.#eventStreamReconnects.inc();
  }

  /** Throws on a negative or non-finite `n`, as prom-client does: a counter never goes down. */
  eventsWritten(n: number): void {
    this.#eventsWritten.inc(n);
  }

  observeDbWrite(seconds: number): void {
    this.#dbWriteSeconds.observe(seconds);
  }

  dbWriteError(): void {
    this.#dbWriteErrors.inc();
  }

  imageRemoved(): void {
    this.#imagesRemoved.inc();
  }

  containerDrifted(): void {
    this.#containersDrifted.inc();
  }

  /** The body and content type for `GET /metrics`. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

// Every status is set, 0 included: a series that vanishes when its count drops to zero shows as a
// gap on dashboards and breaks alerts that compare against it.
function fillByStatus(gauge: Gauge<'status'>, counts: Readonly<Partial<Record<ContainerStatus, number>>> | undefined): void {
  for (const status of CONTAINER_STATUSES) gauge.set({ status }, counts?.[status] ?? 0);
}

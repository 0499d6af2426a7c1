import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostPlatform } from './api/schema.js';
import { DEFAULTS, pullSettings, type AgentConfig } from './config/config.js';
import type { Health, Metadata } from './control/routes.js';
import { startControlServer, type ControlServer } from './control/server.js';
import type { DockerClient } from './docker/docker-client.js';
import { execHelper } from './docker/registry-auth/credential-helper.js';
import { openRegistryCredentials } from './docker/registry-auth/registry-credentials.js';
import { capacityOf } from './engine/admission/host-resources.js';
import { EventRetention } from './engine/event-retention.js';
import type { EtcdClient } from './fleet/etcd-client.js';
import { fleetOf } from './fleet/fleet.js';
import { StatsPoller } from './engine/stats/stats-poller.js';
import { TaskEngine } from './engine/task-engine.js';
import { BerthError, errorMessage } from './errors.js';
import type { Logger } from './log/logger.js';
import { instrumentDocker } from './metrics/instrumented-docker.js';
import { instrumentSaver } from './metrics/instrumented-saver.js';
import { AgentMetrics } from './metrics/metrics.js';
import { registerRouteMetrics } from './metrics/route-metrics.js';
import { EventRouter } from './routes/event-router.js';
import { describeRoute } from './routes/route-config.js';
import type { RouteStatus } from './routes/route-runner.js';
import type { Saver } from './state/saver.js';
import { ManifestsSource } from './sources/manifests-source.js';
import { SourceMerger } from './sources/source-merger.js';
import type { TaskSource } from './sources/task-source.js';
import { systemClock, systemRandom, type Clock, type Random } from './util/clock.js';

export const AGENT_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The agent's ID, made on first start; `agent state restore` carries it over so containers are adopted. */
export const AGENT_ID_KEY = 'agent-id';
/** The configuration the agent last started with, so `agent state dump` shows what is in force. */
export const CONFIG_KEY = 'config';

export interface AgentParts {
  readonly config: AgentConfig;
  readonly docker: DockerClient;
  readonly saver: Saver;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
  /** Process and Node.js metrics (on by default); tests that start many agents turn them off. */
  readonly defaultMetrics?: boolean;
  /** The etcd the fleet speaks to, when etcd endpoints are configured; absent: the configured endpoints (tests give a FakeEtcd). */
  readonly etcd?: EtcdClient;
  /**
   * Watched task sources besides the manifest directory (an etcd source), merged with the others
   * (README "Task sources"); started after the engine, stopped before it.
   */
  readonly sources?: readonly TaskSource[];
}

export interface RunningAgent {
  readonly agentId: string;
  readonly engine: TaskEngine;
  readonly server: ControlServer;
  readonly metrics: AgentMetrics;
  readonly stats: StatsPoller;
  readonly sources: SourceMerger;
  /** Stops serving, drains the engine, closes the database. */
  close(): Promise<void>;
}

/**
 * Wires the agent from its parts: the saved agent ID (made once, on first start), the engine
 * (which resumes saved tasks), and the control socket. The Docker client and saver are passed in
 * so tests run the same wiring on the fake Docker.
 */
export async function startAgent(parts: AgentParts): Promise<RunningAgent> {
  const { config, log } = parts;
  // First: a docker config that is missing (when named) or malformed stops the start before anything is claimed.
  const registryCredentials = await openRegistryCredentials(
    {
      dockerConfigPath: config.dockerConfigPath,
      dockerConfigSource: config.dockerConfigSource,
      helpers: { run: execHelper(), timeoutMs: config.credentialHelperTimeoutMs },
    },
    log,
  );
  const clock = parts.clock ?? systemClock;
  const metrics = new AgentMetrics({ defaultMetrics: parts.defaultMetrics ?? true });
  const docker = instrumentDocker(parts.docker, metrics);
  const saver = instrumentSaver(parts.saver, metrics);
  const storedId = await saver.getMeta(AGENT_ID_KEY);
  const agentId = storedId ?? randomUUID();
  const engine = new TaskEngine({
    docker,
    saver,
    agentId,
    clock,
    random: parts.random ?? systemRandom,
    log,
    concurrency: config.reconcileConcurrency,
    maxConcurrentPulls: config.maxConcurrentPulls,
    pulls: pullSettings(config),
    cleanupWaitMs: config.taskCleanupWaitMs,
    retry: { backoff: config.actionRetryBackoff, maxRetries: config.actionMaxRetries },
    eventStreamBackoff: config.eventStreamBackoff,
    observer: metrics,
    relist: { intervalMs: config.relistIntervalMs, orphanGraceMs: config.orphanGraceMs },
    registryCredentials,
    capacity: capacityOf(config.host, { memoryMiB: config.reservedMemoryMiB, cpuUnits: config.reservedCpuUnits }),
    ...(imageCleanupOn(config, log) ? { imageCleanup: config.imageCleanup } : {}),
    recreateOnDrift: config.recreateOnDrift,
    ...(config.containerMetadata ? { containerMetadata: { root: join(config.dataDir, DEFAULTS.metadataDir), cluster: config.cluster } } : {}),
  });
  metrics.setStateSource(() => engine.countByStatus());
  let router: EventRouter | undefined;
  const routeStatuses = (): RouteStatus[] => router?.statuses() ?? [];
  const delivered = registerRouteMetrics(metrics, routeStatuses);
  const retention = new EventRetention(
    saver,
    clock,
    {
      keepLast: config.eventRetentionCount,
      maxAgeMs: config.eventRetentionAgeMs,
      intervalMs: config.eventRetentionIntervalMs,
      hardCap: config.eventRetentionHardCap,
    },
    log,
    () => router?.lowestCursor(),
  );
  const taskInput = { allowPrivileged: config.allowPrivileged, platform: hostPlatform() };
  const sources = new SourceMerger({ engine, saver, log });
  if (config.manifests) sources.register(new ManifestsSource({ ...config.manifests, parse: taskInput, clock, log }));
  for (const source of parts.sources ?? []) sources.register(source);
  const fleet = config.etcd
    ? fleetOf({
        config: config.etcd,
        agentId,
        version: AGENT_VERSION,
        engine,
        metrics,
        parse: taskInput,
        clock,
        random: parts.random ?? systemRandom,
        log,
        ...(parts.etcd ? { client: parts.etcd } : {}),
      })
    : undefined;
  if (fleet) sources.register(fleet.source);
  const stats = new StatsPoller(docker, () => engine.listTasks(), { clock, policy: config.stats, log });
  metrics.setUsageSource(() => stats.latest());

  // The socket is claimed first: a second agent pointed at the same data directory stops here,
  // before it has written to the database or touched a container.
  const server = await startControlServer({
    socketPath: config.socketPath,
    ...(config.socketGroup === undefined ? {} : { socketGroup: config.socketGroup }),
    limits: config.http,
    deps: {
      engine,
      metadata: metadataOf(config, agentId, docker, engine),
      health: healthOf(docker, saver, engine, clock, routeStatuses, () => fleet?.check()),
      metrics: () => metrics.render(),
      taskInput,
      logs: docker,
      routes: routeStatuses,
      stats,
      sources,
    },
    log,
  });
  try {
    if (!storedId) await saver.setMeta(AGENT_ID_KEY, agentId);
    await engine.start();
    await recordConfig(engine, config, log);
    // After the engine has loaded the feed's end, before retention can prune what a route needs.
    router = new EventRouter({
      routes: config.routes,
      engine,
      getMeta: (key) => saver.getMeta(key),
      clock,
      random: parts.random ?? systemRandom,
      log,
      onDelivered: (route, _record, ms) => delivered(route, ms),
    });
    await router.start();
    await sources.start();
    retention.start();
    stats.start();
    await fleet?.start();
  } catch (error) {
    await server.close();
    await sources.stop();
    await fleet?.stop();
    await stats.stop();
    await retention.stop();
    await router?.stop();
    await engine.close();
    throw error;
  }
  return {
    agentId,
    engine,
    server,
    metrics,
    stats,
    sources,
    close: async () => {
      await server.close();
      await sources.stop();
      await fleet?.stop();
      await stats.stop();
      await retention.stop();
      await router?.stop();
      await engine.close();
      await saver.close();
    },
  };
}

/**
 * As the ECS agent does: with `prefer-cached` as the agent's pull behaviour the cache is what tasks
 * run from, so nothing is removed from it.
 */
function imageCleanupOn(config: AgentConfig, log: Logger): boolean {
  if (!config.imageCleanup.enabled) return false;
  if (config.imagePullBehavior !== 'prefer-cached') return true;
  log.info('Image cleanup is off: the pull behaviour prefer-cached runs tasks from cached images');
  return false;
}

/**
 * The resolved configuration is kept for `state dump`. A full or read-only disk must not stop the
 * agent from starting (it would crash-loop instead of serving and answering 503): that write is
 * skipped, and health reports the failing writes until one succeeds.
 */
async function recordConfig(engine: TaskEngine, config: AgentConfig, log: Logger): Promise<void> {
  try {
    await engine.recordMeta(CONFIG_KEY, JSON.stringify({ ...config, routes: config.routes.map(describeRoute) }));
  } catch (error) {
    if (!(error instanceof BerthError && error.retryable)) throw error;
    log.warn('Could not save the resolved configuration; state dump shows the last saved one', { error: errorMessage(error) });
  }
}

function metadataOf(config: AgentConfig, agentId: string, docker: DockerClient, engine: TaskEngine): () => Promise<Metadata> {
  return async () => ({
    agentVersion: AGENT_VERSION,
    agentId,
    dockerVersion: await docker.version().then(
      (v) => v.version,
      () => null,
    ),
    dataDir: config.dataDir,
    cluster: config.cluster,
    events: { oldestSeq: (await engine.oldestEventSeq()) ?? null, lastSeq: engine.lastEventSeq() },
  });
}

function healthOf(
  docker: DockerClient,
  saver: Saver,
  engine: TaskEngine,
  clock: Clock,
  routes: () => readonly RouteStatus[],
  etcd: () => { ok: boolean; detail: string } | undefined,
): () => Promise<Health> {
  return async () => {
    const [dockerCheck, readCheck] = await Promise.all([check(() => docker.ping()), check(() => saver.lastSeq()), engine.writable()]);
    const failure = engine.writeFailure();
    const dbCheck = failure && readCheck.ok
      ? {
          ok: false,
          detail: `writes failing for ${Math.round((clock.now() - failure.since) / 1000)} s (since ${new Date(failure.since).toISOString()}): ${errorMessage(failure.error)}`,
        }
      : readCheck;
    const last = engine.lastReconcilePassAt();
    const reconcile = {
      ok: true,
      detail: last === undefined ? 'no pass yet' : `last pass ${Math.round((clock.now() - last) / 1000)} s ago`,
    };
    const routeCheck = routesCheck(routes(), clock);
    // etcd unreachable degrades, as a failing route does: the agent keeps running what it has.
    const etcdCheck = etcd();
    return {
      healthy: dockerCheck.ok && dbCheck.ok,
      degraded: !routeCheck.ok || (etcdCheck !== undefined && !etcdCheck.ok),
      checks: {
        docker: dockerCheck,
        database: dbCheck,
        reconcile,
        ...(routes().length > 0 ? { routes: routeCheck } : {}),
        ...(etcdCheck === undefined ? {} : { etcd: etcdCheck }),
      },
    };
  };
}

/**
 * Routes degrade the agent without failing it: a backend that is down or events lost to the hard
 * cap are worth an operator's look, but the tasks run regardless and the control plane must not
 * treat the host as broken.
 */
function routesCheck(routes: readonly RouteStatus[], clock: Clock): { ok: boolean; detail: string } {
  const problems = routes.flatMap((r) => [
    ...(r.failingSince
      ? [`route ${r.name} failing for ${Math.round((clock.now() - Date.parse(r.failingSince)) / 1000)} s, ${r.lag} event(s) behind: ${r.lastError?.message ?? 'unknown error'}`]
      : []),
    ...(r.gapThisRun && r.lastGap ? [`route ${r.name} lost events ${r.lastGap.from}-${r.lastGap.to} to retention's hard cap`] : []),
  ]);
  if (problems.length > 0) return { ok: false, detail: problems.join('; ') };
  return { ok: true, detail: routes.map((r) => `${r.name}: ${r.lag} behind`).join(', ') };
}

async function check(fn: () => Promise<unknown>): Promise<{ ok: boolean; detail?: string }> {
  try {
    await fn();
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: errorMessage(error) };
  }
}

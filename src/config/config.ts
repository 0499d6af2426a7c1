import { homedir } from 'node:os';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { duration, optionalDuration, positiveInt, wholeNumber, yesNo } from './values.js';
import type { DockerConfigSource } from '../docker/registry-auth/registry-credentials.js';
import type { BackoffPolicy } from '../util/backoff.js';
import { hostCpuUnits, readHost, type HostDescription } from '../engine/admission/host-resources.js';
import { IMAGE_PULL_BEHAVIORS, type ImagePullBehavior } from '../api/task.js';
import { loadConfigFile, type RouteConfig } from '../routes/route-config.js';
import { endpointUrl, parseEndpoint, type TlsFiles } from '../docker/docker-endpoint.js';
import type { SshAuth } from '../docker/remote-connection.js';

/**
 * Every setting of the agent, resolved once at start-up from flags, then environment, then the
 * defaults below. Nothing else in the code reads process.env or invents a default.
 * `agent state dump` prints the resolved value of each.
 */
export interface AgentConfig {
  readonly dataDir: string;
  readonly socketPath: string;
  readonly databasePath: string;
  /** DOCKER_HOST-style endpoint: unix:///path or tcp://host:port. */
  readonly dockerHost: string;
  /** A tcp:// Docker host over TLS (DOCKER_TLS_VERIFY): the files' paths, never their contents. */
  readonly dockerTls?: TlsFiles;
  /** An ssh:// Docker host: the key file or agent socket, and the known-hosts file (paths only). */
  readonly dockerSsh?: SshAuth;
  /** Deadline for each non-streaming Docker call. */
  readonly dockerTimeoutMs: number;
  /** Deadline for one pull attempt, from when it gets its slot; 0: none (README "Image pulls"). */
  readonly pullTimeoutMs: number;
  /** A pull attempt with no progress for this long is aborted (and retried); 0: none. */
  readonly pullInactivityTimeoutMs: number;
  /** How images are made available; a container definition's `imagePullBehavior` overrides it. */
  readonly imagePullBehavior: ImagePullBehavior;
  /** Attempts after a pull's first one fails with a retryable error. */
  readonly pullRetries: number;
  /** Waiting between pull attempts. */
  readonly pullRetryBackoff: BackoffPolicy;
  /** Docker pulls at once; concurrent pulls of one image share one and count once. */
  readonly maxConcurrentPulls: number;
  /** Tasks reconciled at once; each task still has exactly one reconciler at a time. */
  readonly reconcileConcurrency: number;
  /** How long a STOPPED task stays (and its containers stay in Docker) before cleanup. */
  readonly taskCleanupWaitMs: number;
  /** Reopening Docker's event stream after a break. */
  readonly eventStreamBackoff: BackoffPolicy;
  /** Retrying a failed Docker action in a task reconciler. */
  readonly actionRetryBackoff: BackoffPolicy;
  /** How many times a retryable action is retried before the container is given up as STOPPED. */
  readonly actionMaxRetries: number;
  readonly logLevel: LogLevel;
  readonly logFormat: 'json' | 'text';
  /** The event feed keeps at most this many events… */
  readonly eventRetentionCount: number;
  /** …and none older than this. */
  readonly eventRetentionAgeMs: number;
  /** How often retention runs. */
  readonly eventRetentionIntervalMs: number;
  /** Events a route has not delivered are kept past the two limits above, up to this many events in all. */
  readonly eventRetentionHardCap: number;
  /** The config file the routes were read from. */
  readonly configFile?: string;
  /** Event routes (README "Event routes"), validated at start-up. */
  readonly routes: readonly RouteConfig[];
  /** How often this agent's containers are listed and compared with its records. */
  readonly relistIntervalMs: number;
  /** How long a container of this agent that no task accounts for is left before it is removed. */
  readonly orphanGraceMs: number;
  /** A group (name or gid) whose members may use the control socket; absent: the owner only. */
  readonly socketGroup?: string;
  /** Whether a container may be `privileged: true` (every capability, every host device). */
  readonly allowPrivileged: boolean;
  /** The Docker CLI config.json whose registry credentials pulls use (the path only; its contents are read at start-up). */
  readonly dockerConfigPath: string;
  /** Where the path came from: a file named by `--docker-config` or DOCKER_CONFIG must exist, the default need not. */
  readonly dockerConfigSource: DockerConfigSource;
  /** Deadline for one `docker-credential-<name> get`. */
  readonly credentialHelperTimeoutMs: number;
  readonly http: HttpLimits;
  /** The host's CPUs and memory, read once at start-up; tasks are admitted against them less the reserved amounts. */
  readonly host: HostDescription;
  /** MiB of the host's memory kept from tasks (ECS's ECS_RESERVED_MEMORY). */
  readonly reservedMemoryMiB: number;
  /** CPU units (1024 a CPU) kept from tasks. */
  readonly reservedCpuUnits: number;
  /** Periodic removal of the images this agent tracks that no task of it uses any more. */
  readonly imageCleanup: ImageCleanupConfig;
  /** Each container gets an ECS container metadata file (ECS's ECS_ENABLE_CONTAINER_METADATA). */
  readonly containerMetadata: boolean;
  /** A container changed behind the agent's back (drift, README "Drift and generations") is made anew; off: only reported. */
  readonly recreateOnDrift: boolean;
  /** The cluster this agent says it belongs to (the metadata files' `Cluster`, GET /v1/metadata). */
  readonly cluster: string;
  /** Container usage sampling (`/metrics`, GET /v1/stats, `agent task stats`). */
  readonly stats: StatsConfig;
  /** The fleet on etcd (README "Fleet on etcd"); absent: no etcd endpoints, the fleet is off. */
  readonly etcd?: EtcdConfig;
  /** The watched manifest directory (`--manifests`, README "Task sources"); absent: off. */
  readonly manifests?: ManifestsConfig;
}

/** Where the agent takes its tasks from and reports to in etcd. */
export interface EtcdConfig {
  readonly endpoints: readonly string[];
  /** TLS files (paths only) for https:// endpoints. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /** Every key of the fleet is under it. */
  readonly prefix: string;
  /** This agent's host in the layout; absent: the agent ID. */
  readonly hostName?: string;
  /** The TTL of the lease `alive` is kept under. */
  readonly leaseTtlSeconds: number;
}

/** Each `*.json` / `*.yaml` / `*.yml` file in `dir` is one task of the `manifests` source. */
export interface ManifestsConfig {
  /** Absolute path. */
  readonly dir: string;
  /** A change seen by the directory watch is rescanned after this much quiet. */
  readonly debounceMs: number;
  /** The safety net for changes the watch misses (network file systems, a watch that failed). */
  readonly rescanIntervalMs: number;
}

/** Container usage sampling, after `docker stats`: one Docker stats call per running container per interval. */
export interface StatsConfig {
  /** How often each running container is sampled; CPU % is computed from two successive samples. */
  readonly intervalMs: number;
  /** Sampling is off while more tasks than this have a running container (the calls grow with them); 0: always off. */
  readonly maxTasks: number;
  /** Docker stats calls in flight at once. */
  readonly concurrency: number;
}

/** Image cleanup, after the ECS agent's (ECS_IMAGE_CLEANUP_INTERVAL and friends), with its defaults. */
export interface ImageCleanupConfig {
  readonly enabled: boolean;
  /** How often a pass runs. */
  readonly intervalMs: number;
  /** An image last used (or pulled) more recently than this is kept. */
  readonly minimumAgeMs: number;
  /** At most this many images are removed per pass. */
  readonly perPass: number;
  /** References never removed (compared as Docker resolves them: `busybox` is `docker.io/library/busybox:latest`). */
  readonly exclude: readonly string[];
}

/** Limits on the control socket, so no client can exhaust the agent. */
export interface HttpLimits {
  readonly maxConnections: number;
  readonly maxHeaderBytes: number;
  /** Time allowed to send the request headers (slow clients are cut off with 408). */
  readonly headersTimeoutMs: number;
  /** Time allowed to send the whole request. */
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** How often Node checks the two timeouts above. */
  readonly timeoutCheckIntervalMs: number;
  /** After an error answered before the body was read: how long the rest is read and discarded before closing. */
  readonly lingerMs: number;
  /** …and at most how many bytes of it; a client sending more is cut off there. */
  readonly lingerBytes: number;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export const DEFAULTS = {
  rootDataDir: '/var/lib/berth',
  userDataDirUnderHome: '.local/state/berth',
  socketFile: 'agent.sock',
  databaseFile: 'state.db',
  dockerHost: 'unix:///var/run/docker.sock',
  /** Under the home directory, as the Docker CLI looks for ca.pem, cert.pem and key.pem. */
  dockerCertDirUnderHome: '.docker',
  /** Tried in this order when no ssh key is named and no ssh agent runs. */
  dockerSshKeysUnderHome: ['.ssh/id_ed25519', '.ssh/id_rsa'],
  /** Under the data directory: the ssh host keys of ssh:// Docker hosts, accepted on first use. */
  dockerSshKnownHostsFile: 'docker-ssh-known-hosts',
  dockerTimeoutMs: 30_000,
  pullTimeoutMs: 10 * 60_000,
  pullInactivityTimeoutMs: 60_000,
  imagePullBehavior: 'default' as ImagePullBehavior,
  pullRetries: 2,
  pullRetryBackoff: { initialMs: 1_000, maxMs: 30_000, multiplier: 2, jitter: 0.5 },
  maxConcurrentPulls: 2,
  reconcileConcurrency: 8,
  taskCleanupWaitMs: 60 * 60_000,
  eventStreamBackoff: { initialMs: 250, maxMs: 30_000, multiplier: 2, jitter: 0.5 },
  actionRetryBackoff: { initialMs: 500, maxMs: 30_000, multiplier: 2, jitter: 0.5 },
  actionMaxRetries: 3,
  logLevel: 'info' as LogLevel,
  logFormat: 'json' as const,
  eventRetentionCount: 100_000,
  eventRetentionAgeMs: 7 * 24 * 3_600_000,
  eventRetentionIntervalMs: 60_000,
  /** Above keepLast: undelivered events stay until this many are kept. */
  eventRetentionHardCap: 1_000_000,
  relistIntervalMs: 30_000,
  orphanGraceMs: 5 * 60_000,
  allowPrivileged: false,
  /** Under the home directory, as Docker's CLI looks for it. */
  dockerConfigUnderHome: '.docker/config.json',
  credentialHelperTimeoutMs: 30_000,
  http: {
    maxConnections: 128,
    maxHeaderBytes: 16 * 1024,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
    timeoutCheckIntervalMs: 1_000,
    lingerMs: 2_000,
    lingerBytes: 8 * 1024 * 1024,
  },
  reservedMemoryMiB: 0,
  reservedCpuUnits: 0,
  imageCleanup: { enabled: true, intervalMs: 30 * 60_000, minimumAgeMs: 60 * 60_000, perPass: 5, exclude: [] as readonly string[] },
  containerMetadata: false,
  recreateOnDrift: false,
  cluster: 'default',
  /** Under the data directory: one directory per task, one per container in it. */
  metadataDir: 'metadata',
  /** `agent state dump` flags a task that has not moved toward its desired status for this long. */
  stuckAfterMs: 5 * 60_000,
  stats: { intervalMs: 10_000, maxTasks: 100, concurrency: 4 },
  etcdPrefix: '/berth',
  etcdLeaseTtlSeconds: 10,
  /** A task's status key is written at most this often. */
  etcdStatusIntervalMs: 1_000,
  etcdBackoff: { initialMs: 250, maxMs: 10_000, multiplier: 2, jitter: 0.5 },
  manifests: { debounceMs: 200, rescanIntervalMs: 30_000 },
} as const;

type PullFields = 'imagePullBehavior' | 'pullRetries' | 'pullRetryBackoff' | 'pullTimeoutMs' | 'pullInactivityTimeoutMs';

/** The pull settings as the engine takes them (TaskEngineOptions.pulls), from a resolved config or DEFAULTS. */
export function pullSettings(c: Pick<AgentConfig, PullFields>) {
  return {
    behavior: c.imagePullBehavior,
    retries: c.pullRetries,
    backoff: c.pullRetryBackoff,
    timeoutMs: c.pullTimeoutMs,
    inactivityTimeoutMs: c.pullInactivityTimeoutMs,
  };
}

/** Values given on the command line; absent ones fall through to the environment, then DEFAULTS. */
export interface ConfigFlags {
  readonly dataDir?: string;
  readonly socket?: string;
  readonly dockerHost?: string;
  readonly dockerTlsVerify?: boolean;
  readonly dockerCertPath?: string;
  readonly dockerSshKey?: string;
  readonly dockerSshKnownHosts?: string;
  readonly concurrency?: string;
  readonly maxConcurrentPulls?: string;
  readonly cleanupWait?: string;
  readonly logLevel?: string;
  readonly logFormat?: string;
  readonly eventRetentionCount?: string;
  readonly eventRetentionAge?: string;
  readonly eventRetentionHardCap?: string;
  readonly eventRetentionInterval?: string;
  /** `--config FILE`: the routes (YAML or JSON). */
  readonly config?: string;
  readonly socketGroup?: string;
  readonly relistInterval?: string;
  readonly orphanGrace?: string;
  readonly allowPrivileged?: boolean;
  readonly dockerConfig?: string;
  readonly reservedMemory?: string;
  readonly reservedCpu?: string;
  /** False: `--no-image-cleanup`. */
  readonly imageCleanup?: boolean;
  readonly imageCleanupInterval?: string;
  readonly imageCleanupMinAge?: string;
  readonly imageCleanupPerPass?: string;
  /** Every `--image-cleanup-exclude` given, each a comma-separated list. */
  readonly imageCleanupExclude?: readonly string[];
  readonly imagePullBehavior?: string;
  readonly imagePullTimeout?: string;
  readonly imagePullInactivityTimeout?: string;
  readonly imagePullRetries?: string;
  readonly containerMetadata?: boolean;
  readonly recreateOnDrift?: boolean;
  readonly cluster?: string;
  readonly statsInterval?: string;
  readonly statsMaxTasks?: string;
  /** `--etcd-endpoints`: a comma list of http(s):// URLs. */
  readonly etcdEndpoints?: string;
  readonly etcdCa?: string;
  readonly etcdCert?: string;
  readonly etcdKey?: string;
  readonly etcdPrefix?: string;
  readonly hostName?: string;
  readonly etcdLeaseTtl?: string;
  readonly manifests?: string;
}

export interface ConfigContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly uid: number;
  readonly home: string;
  /** Absent: read from the operating system (tests give their own). */
  readonly host?: HostDescription;
}

export function defaultContext(): ConfigContext {
  return { env: process.env, uid: process.getuid?.() ?? -1, home: homedir() };
}

const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

export function resolveConfig(flags: ConfigFlags = {}, ctx: ConfigContext = defaultContext()): AgentConfig {
  const { env } = ctx;
  const dataDir = resolve(
    flags.dataDir ??
      env.BERTH_DATA_DIR ??
      (ctx.uid === 0 ? DEFAULTS.rootDataDir : join(ctx.home, DEFAULTS.userDataDirUnderHome)),
  );
  const logLevel = flags.logLevel ?? env.BERTH_LOG_LEVEL ?? DEFAULTS.logLevel;
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError(`log level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  }
  const logFormat = flags.logFormat ?? env.BERTH_LOG_FORMAT ?? DEFAULTS.logFormat;
  if (logFormat !== 'json' && logFormat !== 'text') {
    throw new ConfigError(`log format must be json or text, got ${JSON.stringify(logFormat)}`);
  }
  const dockerHost = flags.dockerHost ?? env.DOCKER_HOST ?? DEFAULTS.dockerHost;
  if (!/^(unix|tcp|http|ssh):\/\/./.test(dockerHost)) {
    throw new ConfigError(`docker host must look like unix:///var/run/docker.sock, tcp://host:port or ssh://user@host, got ${JSON.stringify(dockerHost)}`);
  }
  const relistIntervalMs = duration('relist interval (BERTH_RELIST_INTERVAL)', flags.relistInterval ?? env.BERTH_RELIST_INTERVAL, DEFAULTS.relistIntervalMs);
  if (relistIntervalMs < 1000) throw new ConfigError(`relist interval must be at least 1s, got ${JSON.stringify(flags.relistInterval ?? env.BERTH_RELIST_INTERVAL)}`);
  const host = ctx.host ?? readHost();
  const reservedMemoryMiB = reserved('reserved memory (--reserved-memory, BERTH_RESERVED_MEMORY)', 'MiB', flags.reservedMemory ?? env.BERTH_RESERVED_MEMORY, DEFAULTS.reservedMemoryMiB, host.memoryMiB);
  const reservedCpuUnits = reserved('reserved cpu (--reserved-cpu, BERTH_RESERVED_CPU)', 'CPU units', flags.reservedCpu ?? env.BERTH_RESERVED_CPU, DEFAULTS.reservedCpuUnits, hostCpuUnits(host));
  return Object.freeze({
    dataDir,
    socketPath: resolve(flags.socket ?? env.BERTH_SOCKET ?? join(dataDir, DEFAULTS.socketFile)),
    databasePath: join(dataDir, DEFAULTS.databaseFile),
    dockerHost,
    ...remoteDocker(dockerHost, flags, ctx, dataDir),
    dockerTimeoutMs: DEFAULTS.dockerTimeoutMs,
    pullTimeoutMs: optionalDuration('image pull timeout (BERTH_IMAGE_PULL_TIMEOUT)', flags.imagePullTimeout ?? env.BERTH_IMAGE_PULL_TIMEOUT, DEFAULTS.pullTimeoutMs),
    pullInactivityTimeoutMs: optionalDuration(
      'image pull inactivity timeout (BERTH_IMAGE_PULL_INACTIVITY_TIMEOUT)',
      flags.imagePullInactivityTimeout ?? env.BERTH_IMAGE_PULL_INACTIVITY_TIMEOUT,
      DEFAULTS.pullInactivityTimeoutMs,
    ),
    imagePullBehavior: pullBehavior(flags.imagePullBehavior ?? env.BERTH_IMAGE_PULL_BEHAVIOR),
    pullRetries: wholeNumber('image pull retries (BERTH_IMAGE_PULL_RETRIES)', flags.imagePullRetries ?? env.BERTH_IMAGE_PULL_RETRIES, DEFAULTS.pullRetries),
    pullRetryBackoff: DEFAULTS.pullRetryBackoff,
    maxConcurrentPulls: positiveInt(
      'max concurrent pulls (BERTH_MAX_CONCURRENT_PULLS)',
      flags.maxConcurrentPulls ?? env.BERTH_MAX_CONCURRENT_PULLS,
      DEFAULTS.maxConcurrentPulls,
    ),
    reconcileConcurrency: positiveInt(
      'concurrency (BERTH_RECONCILE_CONCURRENCY)',
      flags.concurrency ?? env.BERTH_RECONCILE_CONCURRENCY,
      DEFAULTS.reconcileConcurrency,
    ),
    taskCleanupWaitMs: duration('cleanup wait (BERTH_TASK_CLEANUP_WAIT)', flags.cleanupWait ?? env.BERTH_TASK_CLEANUP_WAIT, DEFAULTS.taskCleanupWaitMs),
    eventStreamBackoff: DEFAULTS.eventStreamBackoff,
    actionRetryBackoff: DEFAULTS.actionRetryBackoff,
    actionMaxRetries: DEFAULTS.actionMaxRetries,
    logLevel: logLevel as LogLevel,
    logFormat,
    eventRetentionCount: positiveInt(
      'event retention count (BERTH_EVENT_RETENTION_COUNT)',
      flags.eventRetentionCount ?? env.BERTH_EVENT_RETENTION_COUNT,
      DEFAULTS.eventRetentionCount,
    ),
    eventRetentionAgeMs: duration(
      'event retention age (BERTH_EVENT_RETENTION_AGE)',
      flags.eventRetentionAge ?? env.BERTH_EVENT_RETENTION_AGE,
      DEFAULTS.eventRetentionAgeMs,
    ),
    eventRetentionIntervalMs: retentionInterval(flags.eventRetentionInterval ?? env.BERTH_EVENT_RETENTION_INTERVAL),
    eventRetentionHardCap: positiveInt(
      'event retention hard cap (BERTH_EVENT_RETENTION_HARD_CAP)',
      flags.eventRetentionHardCap ?? env.BERTH_EVENT_RETENTION_HARD_CAP,
      DEFAULTS.eventRetentionHardCap,
    ),
    ...configFile(flags.config ?? env.BERTH_CONFIG),
    relistIntervalMs,
    orphanGraceMs: duration('orphan grace (BERTH_ORPHAN_GRACE)', flags.orphanGrace ?? env.BERTH_ORPHAN_GRACE, DEFAULTS.orphanGraceMs),
    ...socketGroup(flags.socketGroup ?? env.BERTH_SOCKET_GROUP),
    allowPrivileged: flags.allowPrivileged ?? yesNo('allow privileged (BERTH_ALLOW_PRIVILEGED)', env.BERTH_ALLOW_PRIVILEGED, DEFAULTS.allowPrivileged),
    ...dockerConfig(flags.dockerConfig, env.DOCKER_CONFIG, ctx.home),
    credentialHelperTimeoutMs: DEFAULTS.credentialHelperTimeoutMs,
    http: DEFAULTS.http,
    host,
    reservedMemoryMiB,
    reservedCpuUnits,
    imageCleanup: imageCleanup(flags, env),
    containerMetadata:
      flags.containerMetadata ?? yesNo('container metadata (BERTH_CONTAINER_METADATA)', env.BERTH_CONTAINER_METADATA, DEFAULTS.containerMetadata),
    recreateOnDrift:
      flags.recreateOnDrift ?? yesNo('recreate on drift (BERTH_RECREATE_ON_DRIFT)', env.BERTH_RECREATE_ON_DRIFT, DEFAULTS.recreateOnDrift),
    cluster: clusterName(flags.cluster ?? env.BERTH_CLUSTER),
    stats: statsConfig(flags, env),
    ...etcdConfig(flags, env),
    ...manifestsConfig(flags.manifests ?? env.BERTH_MANIFESTS),
  });
}

/** `--etcd-endpoints` on (a comma list of http:// or https:// URLs) turns the fleet on; the rest only matters then. */
export function etcdConfig(flags: ConfigFlags, env: ConfigContext['env']): { etcd?: EtcdConfig } {
  const raw = flags.etcdEndpoints ?? env.BERTH_ETCD_ENDPOINTS;
  if (raw === undefined || raw.trim() === '') return {};
  const endpoints = raw.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const endpoint of endpoints) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '') {
      throw new ConfigError(`etcd endpoints (--etcd-endpoints, BERTH_ETCD_ENDPOINTS) must be http:// or https:// URLs separated by commas, got ${JSON.stringify(endpoint)}`);
    }
  }
  const tlsFiles = { ca: flags.etcdCa ?? env.BERTH_ETCD_CA, cert: flags.etcdCert ?? env.BERTH_ETCD_CERT, key: flags.etcdKey ?? env.BERTH_ETCD_KEY };
  const tls: Record<string, string> = {};
  for (const [name, path] of Object.entries(tlsFiles)) {
    if (path === undefined || path === '') continue;
    const full = resolve(path);
    if (!existsSync(full)) throw new ConfigError(`etcd TLS ${name} file ${full} does not exist (--etcd-${name}, BERTH_ETCD_${name.toUpperCase()})`);
    tls[name] = full;
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new ConfigError('etcd TLS needs both --etcd-cert and --etcd-key, or neither');
  const prefix = flags.etcdPrefix ?? env.BERTH_ETCD_PREFIX ?? DEFAULTS.etcdPrefix;
  if (!/^\/[A-Za-z0-9_.\/-]*$/.test(prefix) || prefix.includes('//')) {
    throw new ConfigError(`etcd prefix (--etcd-prefix, BERTH_ETCD_PREFIX) must start with / and hold only letters, digits, _ . - and single slashes, got ${JSON.stringify(prefix)}`);
  }
  const hostName = flags.hostName ?? env.BERTH_HOST_NAME;
  if (hostName !== undefined && !/^[A-Za-z0-9_.-]{1,255}$/.test(hostName)) {
    throw new ConfigError(`host name (--host-name, BERTH_HOST_NAME) must be 1-255 letters, digits, _ . or -, got ${JSON.stringify(hostName)}`);
  }
  const leaseTtlSeconds = positiveInt('etcd lease ttl (--etcd-lease-ttl, BERTH_ETCD_LEASE_TTL) in seconds', flags.etcdLeaseTtl ?? env.BERTH_ETCD_LEASE_TTL, DEFAULTS.etcdLeaseTtlSeconds);
  if (leaseTtlSeconds < 2) throw new ConfigError(`etcd lease ttl (--etcd-lease-ttl, BERTH_ETCD_LEASE_TTL) must be at least 2 seconds, got ${leaseTtlSeconds}`);
  return {
    etcd: Object.freeze({
      endpoints: Object.freeze(endpoints),
      ...(Object.keys(tls).length > 0 ? { tls: Object.freeze(tls) } : {}),
      prefix: prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix,
      ...(hostName === undefined ? {} : { hostName }),
      leaseTtlSeconds,
    }),
  };
}

function statsConfig(flags: ConfigFlags, env: ConfigContext['env']): StatsConfig {
  const d = DEFAULTS.stats;
  const rawInterval = flags.statsInterval ?? env.BERTH_STATS_INTERVAL;
  const intervalMs = duration('stats interval (--stats-interval, BERTH_STATS_INTERVAL)', rawInterval, d.intervalMs);
  if (intervalMs < 1000) throw new ConfigError(`stats interval (--stats-interval, BERTH_STATS_INTERVAL) must be at least 1s, got ${JSON.stringify(rawInterval)}`);
  return Object.freeze({
    intervalMs,
    maxTasks: wholeNumber('stats max tasks (--stats-max-tasks, BERTH_STATS_MAX_TASKS)', flags.statsMaxTasks ?? env.BERTH_STATS_MAX_TASKS, d.maxTasks),
    concurrency: d.concurrency,
  });
}

function imageCleanup(flags: ConfigFlags, env: ConfigContext['env']): ImageCleanupConfig {
  const d = DEFAULTS.imageCleanup;
  const rawInterval = flags.imageCleanupInterval ?? env.BERTH_IMAGE_CLEANUP_INTERVAL;
  const intervalMs = duration('image cleanup interval (BERTH_IMAGE_CLEANUP_INTERVAL)', rawInterval, d.intervalMs);
  if (intervalMs < 1000) throw new ConfigError(`image cleanup interval must be at least 1s, got ${JSON.stringify(rawInterval)}`);
  const rawExclude = flags.imageCleanupExclude ?? (env.BERTH_IMAGE_CLEANUP_EXCLUDE === undefined ? undefined : [env.BERTH_IMAGE_CLEANUP_EXCLUDE]);
  const exclude = (rawExclude ?? d.exclude).flatMap((list) => list.split(',')).map((ref) => ref.trim()).filter((ref) => ref !== '');
  const bad = exclude.find((ref) => !/^[^\s,]+$/.test(ref) || ref.startsWith('-'));
  if (bad !== undefined) throw new ConfigError(`image cleanup exclude must be image references separated by commas, got ${JSON.stringify(bad)}`);
  return Object.freeze({
    enabled: flags.imageCleanup ?? yesNo('image cleanup (BERTH_IMAGE_CLEANUP_ENABLED)', env.BERTH_IMAGE_CLEANUP_ENABLED, d.enabled),
    intervalMs,
    minimumAgeMs: duration('image cleanup minimum age (BERTH_IMAGE_CLEANUP_MIN_AGE)', flags.imageCleanupMinAge ?? env.BERTH_IMAGE_CLEANUP_MIN_AGE, d.minimumAgeMs),
    perPass: positiveInt('image cleanup per pass (BERTH_IMAGE_CLEANUP_PER_PASS)', flags.imageCleanupPerPass ?? env.BERTH_IMAGE_CLEANUP_PER_PASS, d.perPass),
    exclude: Object.freeze(exclude),
  });
}

function retentionInterval(raw: string | undefined): number {
  const ms = duration('event retention interval (BERTH_EVENT_RETENTION_INTERVAL)', raw, DEFAULTS.eventRetentionIntervalMs);
  if (ms < 1000) throw new ConfigError(`event retention interval must be at least 1s, got ${JSON.stringify(raw)}`);
  return ms;
}

/** The routes come from the config file, read and validated here, once, with the rest. */
function configFile(raw: string | undefined): Pick<AgentConfig, 'configFile' | 'routes'> {
  if (raw === undefined || raw === '') return { routes: [] };
  const path = resolve(raw);
  return { configFile: path, routes: loadConfigFile(path).routes };
}

/** The TLS files or ssh login of a remote Docker host, by the Docker CLI's rules; parsing it here refuses a bad host at start-up. */
function remoteDocker(dockerHost: string, flags: ConfigFlags, ctx: ConfigContext, dataDir: string): Pick<AgentConfig, 'dockerTls' | 'dockerSsh'> {
  const { env } = ctx;
  const verify = flags.dockerTlsVerify ?? yesNo('docker tls verify (--docker-tls-verify, DOCKER_TLS_VERIFY)', env.DOCKER_TLS_VERIFY, false);
  const certDir = resolve(flags.dockerCertPath ?? (env.DOCKER_CERT_PATH || join(ctx.home, DEFAULTS.dockerCertDirUnderHome)));
  const dockerTls = verify ? { ca: join(certDir, 'ca.pem'), cert: join(certDir, 'cert.pem'), key: join(certDir, 'key.pem') } : undefined;
  const endpoint = parseEndpoint(dockerTls === undefined ? { host: dockerHost } : { host: dockerHost, tls: dockerTls });
  if (endpoint.kind === 'tcp' && dockerTls !== undefined) {
    const missing = Object.values(dockerTls).find((path) => !existsSync(path));
    if (missing !== undefined) throw new ConfigError(`Docker host ${endpointUrl(endpoint)}: TLS file ${missing} does not exist (--docker-cert-path, DOCKER_CERT_PATH)`);
    return { dockerTls };
  }
  if (endpoint.kind !== 'ssh') return {};
  const knownHostsPath = resolve(flags.dockerSshKnownHosts ?? (env.BERTH_DOCKER_SSH_KNOWN_HOSTS || join(dataDir, DEFAULTS.dockerSshKnownHostsFile)));
  const named = flags.dockerSshKey ?? (env.BERTH_DOCKER_SSH_KEY || undefined);
  if (named !== undefined) {
    const keyPath = resolve(named);
    if (!existsSync(keyPath)) throw new ConfigError(`Docker host ${endpointUrl(endpoint)}: ssh key ${keyPath} does not exist (--docker-ssh-key, BERTH_DOCKER_SSH_KEY)`);
    return { dockerSsh: { keyPath, knownHostsPath } };
  }
  if (env.SSH_AUTH_SOCK) return { dockerSsh: { agentSocket: env.SSH_AUTH_SOCK, knownHostsPath } };
  const keyPath = DEFAULTS.dockerSshKeysUnderHome.map((under) => join(ctx.home, under)).find((path) => existsSync(path));
  if (keyPath === undefined) {
    throw new ConfigError(`Docker host ${endpointUrl(endpoint)} needs an ssh key: give --docker-ssh-key or BERTH_DOCKER_SSH_KEY, run an ssh agent (SSH_AUTH_SOCK), or create ~/.ssh/id_ed25519`);
  }
  return { dockerSsh: { keyPath, knownHostsPath } };
}

/** Docker CLI's rule: `--docker-config` names the file, DOCKER_CONFIG a directory holding config.json. */
function dockerConfig(flag: string | undefined, envDir: string | undefined, home: string): Pick<AgentConfig, 'dockerConfigPath' | 'dockerConfigSource'> {
  if (flag !== undefined && flag !== '') return { dockerConfigPath: resolve(flag), dockerConfigSource: '--docker-config' };
  if (envDir !== undefined && envDir !== '') return { dockerConfigPath: resolve(envDir, 'config.json'), dockerConfigSource: 'DOCKER_CONFIG' };
  return { dockerConfigPath: join(home, DEFAULTS.dockerConfigUnderHome), dockerConfigSource: 'default' };
}

/** An amount kept from tasks: a whole number, 0 or more, and less than the host has (else no task could ever start). */
function reserved(what: string, unit: string, raw: string | undefined, fallback: number, hostHas: number): number {
  if (raw === undefined) return fallback;
  const n = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(`${what} must be a whole number of ${unit}, 0 or more, got ${JSON.stringify(raw)}`);
  if (n >= hostHas) throw new ConfigError(`${what} must be less than the host's ${hostHas} ${unit}, got ${n}: no task could ever be admitted`);
  return n;
}

/** ECS's rule for cluster names. */
/** Off unless a directory is given; one that is not there stops the start, naming it. */
function manifestsConfig(raw: string | undefined): { manifests?: ManifestsConfig } {
  if (raw === undefined || raw === '') return {};
  const dir = resolve(raw);
  if (!existsSync(dir)) throw new ConfigError(`manifests directory (--manifests, BERTH_MANIFESTS) ${JSON.stringify(raw)} does not exist`);
  return { manifests: Object.freeze({ dir, ...DEFAULTS.manifests }) };
}

function clusterName(raw: string | undefined): string {
  if (raw === undefined || raw === '') return DEFAULTS.cluster;
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(raw)) {
    throw new ConfigError(`cluster (--cluster, BERTH_CLUSTER) must be 1-255 letters, digits, hyphens or underscores, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

function socketGroup(raw: string | undefined): { socketGroup?: string } {
  if (raw === undefined || raw === '') return {};
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/.test(raw)) {
    throw new ConfigError(`socket group must be a group name or numeric gid, got ${JSON.stringify(raw)}`);
  }
  return { socketGroup: raw };
}

function pullBehavior(raw: string | undefined): ImagePullBehavior {
  if (raw === undefined) return DEFAULTS.imagePullBehavior;
  if (!(IMAGE_PULL_BEHAVIORS as readonly string[]).includes(raw)) {
    throw new ConfigError(`image pull behavior (BERTH_IMAGE_PULL_BEHAVIOR) must be one of ${IMAGE_PULL_BEHAVIORS.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as ImagePullBehavior;
}

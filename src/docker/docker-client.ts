import type { PortBinding, PortMapping } from '../api/task.js';

/**
 * The agent's view of a container engine, in the project's own types. Only the dockerode
 * adapter knows Docker's wire format; the engine, the fake and the contract suite speak this.
 * It is split by concern, so a part of the engine that needs only volumes (or only images) can
 * ask for just that; `DockerClient` is all of them.
 *
 * Error contract (checked by test/contract/docker-client.contract.ts and its parts against every implementation):
 * - `createContainer` throws NameConflictError when the name is taken (Docker's 409),
 *   ImageNotFoundError when the image is not present locally.
 * - `startContainer` on a running container and `stopContainer` on a stopped one resolve (Docker's 304).
 * - `stopContainer`, `removeContainer`, `inspectContainer` throw ContainerNotFoundError for an
 *   unknown ID or name (Docker's 404).
 * - A container that refers to another one (`volumesFrom`, `links`, a `container:` network, PID or
 *   IPC mode) that does not exist, or is not running where Docker needs it running, throws
 *   ContainerReferenceError: from create or from start, wherever Docker checks it (see ContainerSpec).
 * - A host port Docker cannot bind: PortConflictError, from start (or create, if Docker says so there).
 * - Settings Docker refuses at create (an unknown log driver, say) are a 400 DockerApiError; those
 *   it refuses only at start with a 500 (a user the image lacks, bad log options) ContainerSettingsError.
 * - `pullImage` throws ImagePullError when the registry refuses or the progress stream carries an
 *   error, PullCancelledError as soon as its `signal` aborts.
 * - `inspectVolume` throws VolumeNotFoundError; `removeVolume` of a missing volume resolves, of one
 *   that a container (running or not) uses throws a 409 DockerApiError.
 * - Unreachable daemon: DockerUnavailableError; deadline passed: DockerTimeoutError; anything else: DockerApiError.
 */
export interface DockerClient extends SystemClient, ImageClient, ContainerClient, VolumeClient, LogsClient, StatsClient {}

export interface SystemClient {
  ping(): Promise<void>;
  version(): Promise<DockerVersion>;
}

export interface ImageClient {
  pullImage(image: string, options?: PullOptions): Promise<void>;
  /** The local image a reference (`repo:tag`, `repo@digest` or an image ID) names; ImageNotFoundError when Docker has none. */
  inspectImage(ref: string): Promise<ImageInfo>;
  /** Every local image. */
  listImages(): Promise<ImageInfo[]>;
  /**
   * Removes one reference to an image, never forced: a tag (Docker deletes the image once its last
   * tag goes), or an ID. A reference Docker does not have resolves. ImageConflictError (Docker's
   * 409) when the last reference of an image that a container (running or not) was made from
   * would go, or an ID names an image several tags refer to.
   */
  removeImage(ref: string): Promise<void>;
}

export interface ImageInfo {
  /** `sha256:…`. */
  readonly id: string;
  /** `repo:tag` references, normalised as Docker prints them (`busybox:latest`, `127.0.0.1:5000/x:1`). */
  readonly repoTags: readonly string[];
  /** `repo@sha256:…`: the registry digests the image was pulled by; none for an image built locally. */
  readonly repoDigests: readonly string[];
  readonly sizeBytes: number;
  /** Epoch milliseconds the image was built. */
  readonly createdAt?: number;
}

export interface ContainerClient {
  /** Returns the new container's ID. */
  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  /**
   * Docker sends SIGTERM, then SIGKILL after `timeoutSeconds`, and answers once the container is
   * gone; the call's deadline is that grace period plus the generic call deadline.
   */
  stopContainer(id: string, timeoutSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  /** By ID (full or unique prefix) or by name. */
  inspectContainer(idOrName: string): Promise<ContainerInfo>;
  /** All containers, running or not, that carry every one of `labels`. */
  listContainers(labels: Readonly<Record<string, string>>): Promise<ContainerSummary[]>;
  /**
   * Container events for containers carrying every one of `labels`, from `since` on, until the
   * stream breaks (the iterator then ends or throws) or `signal` aborts (the iterator ends).
   */
  containerEvents(options: EventStreamOptions): AsyncIterable<DockerEvent>;
  /**
   * Network `connect` / `disconnect` events of every container on the host, from `since` on, with
   * the same ending rules as `containerEvents`. Docker cannot filter them by the container's labels
   * (the event carries none), so the caller picks its own containers by ID.
   */
  networkEvents(options: NetworkEventStreamOptions): AsyncIterable<NetworkEvent>;
}

export interface VolumeClient {
  /**
   * Idempotent: a volume that already exists under `name` is answered as it is, with the options
   * and labels it was made with. A driver Docker does not have is a 404 DockerApiError (after
   * Docker has looked for the plugin for some 15 s), a name Docker refuses a 400.
   */
  createVolume(spec: VolumeSpec): Promise<VolumeInfo>;
  inspectVolume(name: string): Promise<VolumeInfo>;
  removeVolume(name: string): Promise<void>;
  /** All volumes that carry every one of `labels`. */
  listVolumes(labels: Readonly<Record<string, string>>): Promise<VolumeInfo[]>;
}

/**
 * A container's output, read from Docker (the agent keeps none). Chunks are what Docker sent,
 * separated by stream: their boundaries mean nothing (a line may span chunks, a chunk hold many
 * lines), and bytes stay bytes; `log-lines.ts` makes lines of them. A TTY container's output is
 * all `stdout`, as Docker has no way to tell its streams apart.
 *
 * - ContainerNotFoundError for an unknown ID or name (Docker's 404), from the first `next()`.
 * - A container whose log driver cannot be read back (`awslogs`, `none`) is a DockerApiError.
 * - Without `follow` the iterator ends after what Docker holds; with it, when the container stops
 *   (at once for one that is not running), or when `signal` aborts (the iterator then just ends).
 */
export interface LogsClient {
  containerLogs(idOrName: string, options: LogOptions): AsyncIterable<LogChunk>;
}

export interface LogChunk {
  readonly stream: 'stdout' | 'stderr';
  readonly data: Buffer;
}

export interface LogOptions {
  readonly follow: boolean;
  /** Only the last N lines Docker holds (before following); absent: all of them. */
  readonly tail?: number;
  /** Only lines written at or after this moment (epoch milliseconds). */
  readonly sinceMs?: number;
  /** Docker prefixes each line with its RFC3339 time (nanoseconds, UTC) and a space. */
  readonly timestamps: boolean;
  readonly signal: AbortSignal;
  /** Called once Docker has accepted the request, before any output: a quiet follow is known to be open. */
  readonly onOpen?: () => void;
}

export interface StatsClient {
  /**
   * One sample of a running container's usage (Docker's `stats?stream=false&one-shot=true`: it
   * answers at once, without the second sample Docker would wait ~1 s for, so CPU % is computed
   * by the caller from two successive samples). ContainerNotFoundError for an unknown container,
   * ContainerNotRunningError for one that exists but is not running (Docker answers it with zeros).
   */
  containerStats(id: string, signal?: AbortSignal): Promise<ContainerStats>;
}

/** A container's usage at `readAt`, in the project's own units (see src/docker/container-stats.ts). */
export interface ContainerStats {
  /** CPU time the container has used since it started, all CPUs together. */
  readonly cpuTotalNs: number;
  /** The host's CPU time since boot (absent where Docker does not report it): the base of a CPU %. */
  readonly systemCpuNs?: number;
  readonly onlineCpus: number;
  /** As `docker stats` shows it: the cgroup's usage less its page cache (inactive_file). */
  readonly memoryUsageBytes: number;
  /** The container's memory limit, or the host's memory when it has none. */
  readonly memoryLimitBytes: number;
  /** Summed over the container's interfaces; zero without a network. */
  readonly network: { readonly rxBytes: number; readonly txBytes: number };
  readonly blockIo: { readonly readBytes: number; readonly writeBytes: number };
  readonly pids?: number;
  /** Epoch milliseconds Docker read the sample. */
  readonly readAt: number;
}

/** The calls of a DockerClient, by short name: the fake's test controls and the metrics' `call` label. */
export type DockerOperation =
  | 'ping'
  | 'version'
  | 'pull'
  | 'image-inspect'
  | 'image-list'
  | 'image-remove'
  | 'create'
  | 'start'
  | 'stop'
  | 'remove'
  | 'inspect'
  | 'list'
  | 'events'
  | 'network-events'
  | 'volume-create'
  | 'volume-inspect'
  | 'volume-remove'
  | 'volume-list'
  | 'logs'
  | 'stats';

export interface DockerVersion {
  readonly version: string;
  readonly apiVersion: string;
}

export interface PullProgress {
  /** Layer ID, when the line is about one layer. */
  readonly id?: string;
  readonly status: string;
  readonly current?: number;
  readonly total?: number;
}

export interface PullOptions {
  readonly onProgress?: (progress: PullProgress) => void;
  /** Credentials for the image's registry; absent: an anonymous pull. Never logged. */
  readonly auth?: RegistryAuth;
  /** Aborting ends the pull at once with PullCancelledError, whatever Docker is doing. */
  readonly signal?: AbortSignal;
}

/** Docker's AuthConfig for one registry: a user and password, or an identity token from a credential helper. */
export type RegistryAuth =
  | { readonly username: string; readonly password: string; readonly serverAddress: string }
  | { readonly identityToken: string; readonly serverAddress: string };

export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly entryPoint?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly portMappings: readonly PortMapping[];
  /** Seconds Docker waits after SIGTERM before SIGKILL when the container is stopped. */
  readonly stopTimeout: number;
  /*
   * Everything below is optional: absent means Docker's default. Where another container is named
   * (`links`, `volumesFrom`, `container:` modes), Docker checks at different moments, and so does
   * the fake: a missing container fails create for `volumesFrom`, `links`, `pidMode` and
   * `ipcMode`, but start for `networkMode`; a container that exists but is not running fails start
   * for `links` and the `container:` modes, and never for `volumesFrom`.
   */
  readonly healthCheck?: HealthCheckSpec;
  readonly hostname?: string;
  /** `user`, `uid`, `user:group` or `uid:gid`. */
  readonly user?: string;
  readonly workingDir?: string;
  /** ECS's `pseudoTerminal`. */
  readonly tty?: boolean;
  /** ECS's `interactive`: stdin stays open. */
  readonly openStdin?: boolean;
  readonly networkDisabled?: boolean;
  /** `bridge`, `host`, `none` or `container:<id or name>`. */
  readonly networkMode?: string;
  /** `host` or `container:<id or name>`. */
  readonly pidMode?: string;
  /** `host`, `none`, `shareable` or `container:<id or name>`. */
  readonly ipcMode?: string;
  /** Docker's `name:alias`. */
  readonly links?: readonly string[];
  /**
   * Passed as Docker's `Binds`, as the ECS agent does: a missing host directory of a bind is
   * created, and a missing named volume is created with the default driver.
   */
  readonly mounts?: readonly MountSpec[];
  readonly volumesFrom?: readonly { readonly container: string; readonly readOnly: boolean }[];
  readonly dns?: readonly string[];
  readonly dnsSearch?: readonly string[];
  /** `host:ip`. */
  readonly extraHosts?: readonly string[];
  readonly cpuShares?: number;
  readonly memoryBytes?: number;
  readonly memoryReservationBytes?: number;
  /** Memory plus swap; -1 is unlimited. */
  readonly memorySwapBytes?: number;
  /** 0 to 100. */
  readonly memorySwappiness?: number;
  readonly ulimits?: readonly { readonly name: string; readonly soft: number; readonly hard: number }[];
  readonly readonlyRootfs?: boolean;
  readonly privileged?: boolean;
  readonly securityOpt?: readonly string[];
  readonly sysctls?: Readonly<Record<string, string>>;
  /** Docker's tini as PID 1, reaping zombies and forwarding signals. */
  readonly init?: boolean;
  readonly shmSizeBytes?: number;
  /** Container path → mount options, e.g. `size=64m,rw`. */
  readonly tmpfs?: Readonly<Record<string, string>>;
  readonly capAdd?: readonly string[];
  readonly capDrop?: readonly string[];
  readonly devices?: readonly DeviceSpec[];
  readonly logConfig?: { readonly type: string; readonly config: Readonly<Record<string, string>> };
}

export interface HealthCheckSpec {
  /** `["CMD", ...]` or `["CMD-SHELL", "..."]`, as Docker takes it. */
  readonly test: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly startPeriodMs: number;
}

export interface MountSpec {
  /** `bind`: `source` is an absolute host path; `volume`: `source` is a volume name. */
  readonly type: 'bind' | 'volume';
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

export interface DeviceSpec {
  readonly hostPath: string;
  readonly containerPath: string;
  /** Cgroup permissions, some of `rwm`. */
  readonly permissions: string;
}

export interface VolumeSpec {
  readonly name: string;
  /** Default `local`. */
  readonly driver?: string;
  readonly driverOpts?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface VolumeInfo {
  readonly name: string;
  readonly driver: string;
  readonly driverOpts: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  /** Where the volume lives on the host. */
  readonly mountpoint: string;
}

/** Docker's State.Health.Status. */
export type DockerHealth = 'starting' | 'healthy' | 'unhealthy';

/** Docker's own container states. */
export type DockerContainerState =
  | 'created'
  | 'running'
  | 'paused'
  | 'restarting'
  | 'removing'
  | 'exited'
  | 'dead';

export interface ContainerInfo {
  readonly id: string;
  /** Without Docker's leading slash. */
  readonly name: string;
  readonly image: string;
  /** The ID (`sha256:…`) of the image the container was made from. */
  readonly imageId?: string;
  readonly state: DockerContainerState;
  /** Present once the container has exited. */
  readonly exitCode?: number;
  readonly oomKilled: boolean;
  readonly labels: Readonly<Record<string, string>>;
  /** The host ports Docker actually bound (a dynamic port reads back as the one it chose); none unless running. */
  readonly portBindings: readonly PortBinding[];
  /**
   * Absent when the container has no healthcheck, or has never been started. `starting` from each
   * start until a probe decides; once the container stops Docker reports `unhealthy`.
   */
  readonly health?: DockerHealth;
  /** The main process's host PID, while running. */
  readonly pid?: number;
  /** Networks the container is attached to, by name (`bridge`, ...); `ipAddress` once it has one. */
  readonly networks?: Readonly<Record<string, { readonly ipAddress?: string }>>;
  /** Docker's Config.Hostname: the spec's hostname, else the first 12 characters of the ID. */
  readonly hostname?: string;
  /** Epoch milliseconds; absent when Docker reports the zero time. */
  readonly createdAt?: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
}

export interface ContainerSummary {
  readonly id: string;
  readonly name: string;
  readonly state: DockerContainerState;
  readonly labels: Readonly<Record<string, string>>;
}

/** Docker container event actions the engine acts on; others pass through as plain strings. */
export type DockerEventAction =
  | 'create'
  | 'start'
  | 'die'
  | 'kill'
  | 'oom'
  | 'stop'
  | 'destroy'
  | 'health_status'
  | (string & {});

/**
 * One container event. Exec events (`exec_create`, `exec_start`, `exec_die`), which Docker sends
 * for every health probe, are never delivered.
 */
export interface DockerEvent {
  readonly dockerId: string;
  readonly action: DockerEventAction;
  /** Present on `die`. */
  readonly exitCode?: number;
  /** Present on `health_status`: what the status changed to (Docker only reports `healthy` and `unhealthy`). */
  readonly health?: DockerHealth;
  readonly labels: Readonly<Record<string, string>>;
  /** Docker's nanosecond timestamp, as a decimal string; pass it back as `since` to resume. */
  readonly timeNano: string;
}

/** A container was attached to a network or detached from it (Docker's `type=network` event). */
export interface NetworkEvent {
  readonly dockerId: string;
  readonly action: 'connect' | 'disconnect';
  /** The network's name. */
  readonly network: string;
  /** As DockerEvent's: pass it back as `sinceNano` to resume. */
  readonly timeNano: string;
}

export type NetworkEventStreamOptions = Omit<EventStreamOptions, 'labels'>;

export interface EventStreamOptions {
  readonly labels: Readonly<Record<string, string>>;
  /** Nanosecond timestamp (decimal string) of the last event seen; events after it are replayed. */
  readonly sinceNano?: string;
  readonly signal: AbortSignal;
  /**
   * Called once the daemon has accepted the stream, before any event: a quiet stream is known to
   * be connected, and a failed attempt is never mistaken for one.
   */
  readonly onOpen?: () => void;
}

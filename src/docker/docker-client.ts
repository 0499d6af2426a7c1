import type { PortBinding, PortMapping } from '../api/task.js';

/**
 * The agent's view of a container engine, in the project's own types. Only the dockerode
 * adapter knows Docker's wire format; the engine, the fake and the contract suite speak this.
 *
 * Error contract (checked by test/contract/docker-client.contract.ts against every implementation):
 * - `createContainer` throws NameConflictError when the name is taken (Docker's 409),
 *   ImageNotFoundError when the image is not present locally.
 * - `startContainer` on a running container and `stopContainer` on a stopped one resolve (Docker's 304).
 * - `stopContainer`, `removeContainer`, `inspectContainer` throw ContainerNotFoundError for an
 *   unknown ID or name (Docker's 404).
 * - `pullImage` throws ImagePullError when the registry refuses or the progress stream carries an error.
 * - Unreachable daemon: DockerUnavailableError; deadline passed: DockerTimeoutError; anything else: DockerApiError.
 */
export interface DockerClient {
  ping(): Promise<void>;
  version(): Promise<DockerVersion>;
  pullImage(image: string, options?: PullOptions): Promise<void>;
  /** Returns the new container's ID. */
  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** Docker sends SIGTERM, then SIGKILL after `timeoutSeconds`. */
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
}

/** The calls of a DockerClient, by short name: the fake's test controls and the metrics' `call` label. */
export type DockerOperation = 'ping' | 'version' | 'pull' | 'create' | 'start' | 'stop' | 'remove' | 'inspect' | 'list' | 'events';

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
}

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
}

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
  readonly state: DockerContainerState;
  /** Present once the container has exited. */
  readonly exitCode?: number;
  readonly oomKilled: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly portBindings: readonly PortBinding[];
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
export type DockerEventAction = 'create' | 'start' | 'die' | 'kill' | 'oom' | 'stop' | 'destroy' | (string & {});

export interface DockerEvent {
  readonly dockerId: string;
  readonly action: DockerEventAction;
  /** Present on `die`. */
  readonly exitCode?: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Docker's nanosecond timestamp, as a decimal string; pass it back as `since` to resume. */
  readonly timeNano: string;
}

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

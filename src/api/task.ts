import type { ContainerStatus, DesiredStatus, TaskStatus } from './status.js';
import type { Reason } from './reasons.js';

/*
 * berth's internal task model. Both accepted input formats (an ECS task definition, and berth's
 * short form) are parsed into these types in one place (src/api/parse/); the engine, the saver and
 * the views speak only these. Field names follow ECS wherever ECS has the concept, normalised:
 * defaults are filled in, ECS's `[{name, value}]` lists become records, and fields that have no
 * effect on a plain Docker host are gone. Optional fields are absent (never `undefined`-valued)
 * when not set, so the stored JSON stays small and round-trips exactly.
 */

export type Protocol = 'tcp' | 'udp';

/** A port the container listens on, and where on the host it is published. */
export interface PortMapping {
  readonly containerPort: number;
  /** Absent: Docker picks a free port (a dynamic port; ECS's `hostPort: 0`). */
  readonly hostPort?: number;
  readonly protocol: Protocol;
  /** Defaults to 127.0.0.1 so nothing is published beyond the host unless asked for. */
  readonly hostIp: string;
  /** ECS's port name (service connect); kept for views and templates. */
  readonly name?: string;
}

/** Where a port actually ended up once Docker created the container. */
export interface PortBinding {
  readonly containerPort: number;
  readonly hostPort: number;
  readonly protocol: Protocol;
  readonly hostIp: string;
}

/** ECS dependency conditions (containerDefinitions[].dependsOn[].condition). */
export const DEPENDENCY_CONDITIONS = ['START', 'COMPLETE', 'SUCCESS', 'HEALTHY'] as const;
export type DependencyCondition = (typeof DEPENDENCY_CONDITIONS)[number];

export interface ContainerDependency {
  readonly containerName: string;
  readonly condition: DependencyCondition;
}

/** Docker's healthcheck, with ECS's defaults filled in. Durations in seconds. */
export interface HealthCheck {
  /** `["CMD", ...]` or `["CMD-SHELL", "..."]`, exactly as ECS and Docker take it. */
  readonly command: readonly string[];
  readonly interval: number;
  readonly timeout: number;
  readonly retries: number;
  readonly startPeriod: number;
}

/** Health as ECS reports it; UNKNOWN until Docker has a verdict (or when there is no check). */
export const HEALTH_STATUSES = ['UNKNOWN', 'HEALTHY', 'UNHEALTHY'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

export interface MountPoint {
  readonly sourceVolume: string;
  readonly containerPath: string;
  readonly readOnly: boolean;
}

export interface VolumeFrom {
  readonly sourceContainer: string;
  readonly readOnly: boolean;
}

export interface Ulimit {
  readonly name: string;
  readonly softLimit: number;
  readonly hardLimit: number;
}

export interface ExtraHost {
  readonly hostname: string;
  readonly ipAddress: string;
}

export interface Tmpfs {
  readonly containerPath: string;
  /** MiB. */
  readonly size: number;
  readonly mountOptions: readonly string[];
}

export interface Device {
  readonly hostPath: string;
  /** Defaults to hostPath. */
  readonly containerPath?: string;
  /** Subset of read, write, mknod; all three when absent. */
  readonly permissions?: readonly ('read' | 'write' | 'mknod')[];
}

export interface LinuxParameters {
  readonly initProcessEnabled?: boolean;
  /** MiB. */
  readonly sharedMemorySize?: number;
  readonly tmpfs?: readonly Tmpfs[];
  readonly capabilities?: { readonly add: readonly string[]; readonly drop: readonly string[] };
  readonly devices?: readonly Device[];
  /** MiB; -1 for unlimited swap. */
  readonly maxSwap?: number;
  /** 0-100. */
  readonly swappiness?: number;
}

/**
 * ECS's restartPolicy, when it is enabled (a disabled one asks for nothing and is not kept): an
 * exit restarts the same Docker container in place, not a new task. See src/engine/restart-policy.ts.
 */
export interface RestartPolicy {
  /** Exit codes that do not restart the container. */
  readonly ignoredExitCodes: readonly number[];
  /**
   * Seconds the container must have run, since it started or was last restarted, for an exit to
   * restart it; so it is also restarted at most once per period.
   */
  readonly restartAttemptPeriod: number;
}

export interface LogConfiguration {
  readonly logDriver: string;
  readonly options: Readonly<Record<string, string>>;
}

/**
 * How a container's image is made available (README "Image pulls"): `default` pulls and falls back
 * to a cached image when the pull fails; `always` pulls and fails with it; `once` pulls only if
 * this agent never pulled the image successfully; `prefer-cached` uses a local image when there is one.
 */
export const IMAGE_PULL_BEHAVIORS = ['default', 'always', 'once', 'prefer-cached'] as const;
export type ImagePullBehavior = (typeof IMAGE_PULL_BEHAVIORS)[number];

/** Where the image a container was created from came from. */
export type ImageSource = 'pulled' | 'cached' | 'cached-after-failure';

/** A container as the control plane defines it. Never changed in place: a new definition is a new generation of the task. */
export interface ContainerDefinition {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly entryPoint?: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  /** When an essential container stops, the whole task stops. */
  readonly essential: boolean;
  /** ECS's `dockerLabels`. */
  readonly labels: Readonly<Record<string, string>>;
  /** Seconds between SIGTERM and SIGKILL when the container is stopped. */
  readonly stopTimeout: number;
  /**
   * Seconds the containers that depend on this one wait for it to reach their condition before
   * they give up (ECS's startTimeout, set on the dependency). Absent: they wait without a bound.
   */
  readonly startTimeout?: number;
  readonly portMappings: readonly PortMapping[];
  readonly dependsOn: readonly ContainerDependency[];
  readonly healthCheck?: HealthCheck;
  /** CPU shares; at least 2, Docker's minimum (ECS's 0, 1 or none become 2). */
  readonly cpu: number;
  /** Hard memory limit, MiB. */
  readonly memory?: number;
  /** Soft memory limit, MiB. */
  readonly memoryReservation?: number;
  readonly ulimits: readonly Ulimit[];
  readonly user?: string;
  readonly workingDirectory?: string;
  readonly interactive: boolean;
  readonly pseudoTerminal: boolean;
  readonly readonlyRootFilesystem: boolean;
  readonly privileged: boolean;
  readonly dockerSecurityOptions: readonly string[];
  /** Kernel parameters, namespace (e.g. `net.core.somaxconn`) → value. */
  readonly systemControls: Readonly<Record<string, string>>;
  /** `name` or `name:alias`, naming other containers of the task. */
  readonly links: readonly string[];
  readonly hostname?: string;
  readonly dnsServers: readonly string[];
  readonly dnsSearchDomains: readonly string[];
  readonly extraHosts: readonly ExtraHost[];
  readonly disableNetworking: boolean;
  readonly mountPoints: readonly MountPoint[];
  readonly volumesFrom: readonly VolumeFrom[];
  readonly linuxParameters?: LinuxParameters;
  readonly logConfiguration?: LogConfiguration;
  /** Absent: an exit is final, as it always was. */
  readonly restartPolicy?: RestartPolicy;
  /** berth's own field: this container's pull behaviour. Absent: the agent's (`--image-pull-behavior`). */
  readonly imagePullBehavior?: ImagePullBehavior;
}

/**
 * A task volume. `bind` is a host path; `task` is a Docker volume made for the task and removed
 * with it (ECS's `host: {}`, a bare `{name}`, and `dockerVolumeConfiguration` with scope `task`);
 * `shared` is a Docker volume that outlives the task.
 */
export type VolumeDefinition =
  | { readonly name: string; readonly kind: 'bind'; readonly sourcePath: string }
  | {
      readonly name: string;
      readonly kind: 'task' | 'shared';
      /** Only for `shared`: create the volume when it is missing. */
      readonly autoprovision: boolean;
      readonly driver: string;
      readonly driverOpts: Readonly<Record<string, string>>;
      readonly labels: Readonly<Record<string, string>>;
    };

export const NETWORK_MODES = ['bridge', 'host', 'none'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

/** `task`: the task's containers share one namespace (see the README for whose). */
export type NamespaceMode = 'host' | 'task';

/** A task as the control plane defines it. */
export interface TaskDefinition {
  readonly arn: string;
  readonly family: string;
  /** ECS's revision, as text. */
  readonly version: string;
  readonly desiredStatus: DesiredStatus;
  readonly containers: readonly ContainerDefinition[];
  readonly networkMode: NetworkMode;
  readonly pidMode?: NamespaceMode;
  readonly ipcMode?: NamespaceMode | 'none';
  readonly volumes: readonly VolumeDefinition[];
  /** Task-level CPU units and memory (MiB), for host-resource accounting. */
  readonly cpu?: number;
  readonly memory?: number;
}

/** The task-level part of a definition: everything but the identity, status and containers. */
export type TaskSettings = Omit<TaskDefinition, 'arn' | 'family' | 'version' | 'desiredStatus' | 'containers'>;

/** The engine's record of one container: its definition plus everything learned about it. */
export interface ContainerState {
  readonly definition: ContainerDefinition;
  /** Deterministic Docker name, saved before `create` is ever called. */
  readonly dockerName: string;
  readonly dockerId?: string;
  readonly desiredStatus: DesiredStatus;
  readonly knownStatus: ContainerStatus;
  readonly exitCode?: number;
  readonly reason?: Reason;
  readonly portBindings: readonly PortBinding[];
  /** Present once Docker has reported on a container with a healthCheck. */
  readonly health?: HealthStatus;
  /** The local image ID the container is (to be) created from, once its image is available. */
  readonly imageId?: string;
  /** The registry digest (`sha256:…`) of that image for the container's repository; absent for a local-only image. */
  readonly imageDigest?: string;
  /** Whether the image was pulled for this container or a cached one used (`cached-after-failure`: the pull failed). */
  readonly imageSource?: ImageSource;
  /** Why the pull failed, when a cached image was used instead. */
  readonly pullFailure?: string;
  /** Epoch milliseconds. */
  readonly createdAt?: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /**
   * The container's incarnation: how many times its restartPolicy restarted it. Absent: 0. Each
   * incarnation lives through the statuses afresh, from CREATED (see nextIncarnation in transitions.ts).
   */
  readonly restartCount?: number;
  /**
   * The networks the container is attached to (name → address), its main process's host PID and
   * its hostname, as Docker's inspect showed them when the container last started or its networks
   * changed. Kept once it stops (the last full record), except the PID, which ends with the process.
   */
  readonly networks?: Readonly<Record<string, NetworkAttachment>>;
  readonly pid?: number;
  readonly hostname?: string;
  /** The exit code the last restart followed. */
  readonly lastExitCode?: number;
  /** Epoch milliseconds (the agent's clock) of the last restart decision. */
  readonly lastRestartAt?: number;
  /** Docker's finishedAt of the exit the last restart followed: a later inspect showing that exit again is not a new one. */
  readonly lastFinishedAt?: number;
  /**
   * Present when Docker's container no longer matches the record (src/engine/drift/): changed
   * behind the agent's back. Recreated only with --recreate-on-drift.
   */
  readonly drift?: Reason;
}

/** One network a container is on; `ipAddress` once Docker has given it one (a bridge network). */
export interface NetworkAttachment {
  readonly ipAddress?: string;
}

/** The engine's record of one task. Replaced, never mutated: every change builds a new value. */
export interface TaskState {
  readonly arn: string;
  readonly family: string;
  readonly version: string;
  readonly desiredStatus: DesiredStatus;
  /** The status last reported in a TaskStateChange; derived from the containers. */
  readonly knownStatus: TaskStatus;
  readonly containers: readonly ContainerState[];
  /** Task-level definition: network and namespace modes, volumes, resources. */
  readonly settings: TaskSettings;
  /** Task volumes made in Docker so far (by volume name); removed with the task unless shared. */
  readonly provisionedVolumes: readonly string[];
  /**
   * The version of the parse rules (src/api/rules-version.ts) the task's definition was accepted
   * under. Absent: this build's PARSE_RULES_VERSION, which is what every newly accepted task has;
   * a task saved under other rules loads with their number and keeps it. A new definition for the
   * task (a new generation) is accepted under the current rules, so it must not inherit the old one's.
   */
  readonly rules?: number;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
  /** When the task's known status became STOPPED; cleanup counts from here. */
  readonly stoppedAt?: number;
  /** Containers were removed from Docker; the task is about to leave the state. */
  readonly cleanedUp?: boolean;
  /**
   * Present while the task waits in the admission queue for host resources (src/engine/admission/):
   * nothing is done in Docker for it until it is admitted. Absent: admitted, as is every task saved
   * before admission existed.
   */
  readonly waiting?: AdmissionWait;
  /** The task source that owns the task (src/sources/); absent: accepted before sources existed. */
  readonly source?: string;
  /** Other sources claiming the same arn, in claim order (README "Task sources"); absent or empty: none. */
  readonly conflicts?: readonly string[];
  /**
   * Which definition of the task this is: 1 for the first, one more for each new definition
   * accepted under the same ARN (src/engine/drift/next-generation.ts). Absent: 1.
   */
  readonly generation?: number;
  /**
   * Docker containers of earlier generations still to be stopped and removed (recreated or
   * dropped containers), saved before any of them is touched, so a restart finishes the job.
   */
  readonly retiring?: readonly RetiringContainer[];
}

/** An old instance of a container, made from an earlier definition, that is to be stopped and removed. */
export interface RetiringContainer {
  /** The container's name in the task definition. */
  readonly name: string;
  /** Absent when its ID was never saved: it is then found by name, if it exists at all. */
  readonly dockerId?: string;
  readonly dockerName: string;
  /** Its own definition's stopTimeout. */
  readonly stopTimeout: number;
  /** Other retiring containers that depended on it: they stop first. */
  readonly after: readonly string[];
}

/** A task's generation: 1 unless a new definition replaced its first. */
export function generationOf(task: Pick<TaskState, 'generation'>): number {
  return task.generation ?? 1;
}

/** A task's place in the admission queue, and what it waits for (for views; rewritten as that changes). */
export interface AdmissionWait {
  /** Orders the queue, first come first served; kept across restarts. */
  readonly position: number;
  readonly message: string;
}

/** Waiting for host resources and still wanted: a stop request takes a task out of the queue. */
export function isWaitingForResources(task: Pick<TaskState, 'waiting' | 'desiredStatus'>): boolean {
  return task.waiting !== undefined && task.desiredStatus === 'RUNNING';
}

/**
 * Every default of the model, in one place: the parsers fill these in, and code that builds a
 * definition by hand (tests, benchmarks) starts from them.
 */
export const CONTAINER_DEFAULTS = {
  environment: {},
  essential: true,
  labels: {},
  stopTimeout: 30,
  portMappings: [],
  dependsOn: [],
  cpu: 2,
  ulimits: [],
  interactive: false,
  pseudoTerminal: false,
  readonlyRootFilesystem: false,
  privileged: false,
  dockerSecurityOptions: [],
  systemControls: {},
  links: [],
  dnsServers: [],
  dnsSearchDomains: [],
  extraHosts: [],
  disableNetworking: false,
  mountPoints: [],
  volumesFrom: [],
} as const satisfies Omit<ContainerDefinition, 'name' | 'image'>;

/** ECS's restartPolicy defaults: no exit code ignored, a period of 300 seconds. */
export const RESTART_POLICY_DEFAULTS = {
  ignoredExitCodes: [],
  restartAttemptPeriod: 300,
} as const satisfies RestartPolicy;

export const PORT_MAPPING_DEFAULTS = {
  protocol: 'tcp',
  hostIp: '127.0.0.1',
} as const satisfies Partial<PortMapping>;

/** ECS's healthCheck defaults, in seconds. */
export const HEALTH_CHECK_DEFAULTS = {
  interval: 30,
  timeout: 5,
  retries: 3,
  startPeriod: 0,
} as const satisfies Omit<HealthCheck, 'command'>;

/** A Docker volume with nothing configured: made with the task, on Docker's local driver. */
export const DOCKER_VOLUME_DEFAULTS = {
  kind: 'task',
  autoprovision: false,
  driver: 'local',
  driverOpts: {},
  labels: {},
} as const satisfies Omit<Extract<VolumeDefinition, { kind: 'task' | 'shared' }>, 'name'>;

export const TASK_DEFAULTS = {
  desiredStatus: 'RUNNING',
  networkMode: 'bridge',
  volumes: [],
} as const satisfies Partial<TaskDefinition>;

/** A container definition with every default, and `fields` on top. */
export function containerDefinition(
  fields: Pick<ContainerDefinition, 'name' | 'image'> & Partial<ContainerDefinition>,
): ContainerDefinition {
  return { ...CONTAINER_DEFAULTS, ...fields };
}

/** The task-level settings of a definition. */
export function taskSettings(def: TaskDefinition): TaskSettings {
  const { arn: _arn, family: _family, version: _version, desiredStatus: _desired, containers: _containers, ...settings } = def;
  return settings;
}

import type { ContainerStatus, DesiredStatus, TaskStatus } from './status.js';
import type { Reason } from './reasons.js';

export type Protocol = 'tcp' | 'udp';

/** A port the container listens on, and where on the host it is published. */
export interface PortMapping {
  readonly containerPort: number;
  /** Absent: Docker picks a free port (a dynamic port). */
  readonly hostPort?: number;
  readonly protocol: Protocol;
  /** Defaults to 127.0.0.1 so nothing is published beyond the host unless asked for. */
  readonly hostIp: string;
}

/** Where a port actually ended up once Docker created the container. */
export interface PortBinding {
  readonly containerPort: number;
  readonly hostPort: number;
  readonly protocol: Protocol;
  readonly hostIp: string;
}

/** A container as the control plane defines it. Immutable once the task is accepted. */
export interface ContainerDefinition {
  readonly name: string;
  readonly image: string;
  readonly command?: readonly string[];
  readonly entryPoint?: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  /** When an essential container stops, the whole task stops. */
  readonly essential: boolean;
  readonly labels: Readonly<Record<string, string>>;
  /** Seconds between SIGTERM and SIGKILL when the container is stopped. */
  readonly stopTimeout: number;
  readonly portMappings: readonly PortMapping[];
}

/** A task as the control plane defines it. */
export interface TaskDefinition {
  readonly arn: string;
  readonly family: string;
  readonly version: string;
  readonly desiredStatus: DesiredStatus;
  readonly containers: readonly ContainerDefinition[];
}

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
  /** Epoch milliseconds. */
  readonly createdAt?: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
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
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly updatedAt: number;
  /** When the task's known status became STOPPED; cleanup counts from here. */
  readonly stoppedAt?: number;
  /** Containers were removed from Docker; the task is about to leave the state. */
  readonly cleanedUp?: boolean;
}

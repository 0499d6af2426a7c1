import type { ReasonCode } from './reasons.js';
import type { ContainerStatus } from './status.js';
import type { HealthStatus, ImageSource, PortBinding } from './task.js';

/**
 * Beacon's actions, as a container event implies them: the container started (a new incarnation is
 * running), changed while running (its health), or stopped after it ran. A container that never
 * ran has no action: a receiver that never heard it start never hears it stop.
 */
export const CONTAINER_ACTIONS = ['start', 'update', 'stop'] as const;
export type ContainerAction = (typeof CONTAINER_ACTIONS)[number];

/**
 * A ContainerStateChange (`type: "container"`) or TaskStateChange (`type: "task"`),
 * before the saver gives it a sequence number.
 */
export interface NewStateChange {
  readonly type: 'container' | 'task';
  readonly taskArn: string;
  readonly containerName?: string;
  readonly dockerId?: string;
  readonly status: ContainerStatus;
  readonly exitCode?: number;
  readonly reason?: ReasonCode;
  readonly reasonMessage?: string;
  readonly portBindings?: readonly PortBinding[];
  /** The health of the container the event is about, when Docker has reported on its healthCheck. */
  readonly health?: HealthStatus;
  /**
   * The incarnation of the container the event is about: how many times its restartPolicy had
   * restarted it. Absent: 0. Statuses move forward within one incarnation, so (container,
   * restartCount, status) is never reported twice.
   */
  readonly restartCount?: number;
  /** The registry digest of the container's image, once it is available (README "Image pulls"). */
  readonly imageDigest?: string;
  /** Whether that image was pulled or a cached one used (`cached-after-failure`: the pull failed). */
  readonly imageSource?: ImageSource;
  /** The action this container event implies for route receivers (README "Event routes"). */
  readonly action?: ContainerAction;
  /** The container's service name, `<family>/<container>` (serviceName). */
  readonly service?: string;
  /** The container's own docker labels, as defined (never the agent's `berth.*` ones); absent when none. */
  readonly labels?: Readonly<Record<string, string>>;
  /** The task's generation (src/engine/drift/): absent for the first, so present once a new definition replaced it. */
  readonly generation?: number;
  /** ISO-8601 timestamp of the change. */
  readonly at: string;
}

/** A state change as stored on the durable feed: `seq` rises forever, across restarts. */
export interface StateChange extends NewStateChange {
  readonly seq: number;
}

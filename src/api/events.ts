import type { ReasonCode } from './reasons.js';
import type { ContainerStatus } from './status.js';
import type { HealthStatus, ImageSource, PortBinding } from './task.js';

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
  /** The registry digest of the container's image, once it is available (README "Image pulls"). */
  readonly imageDigest?: string;
  /** Whether that image was pulled or a cached one used (`cached-after-failure`: the pull failed). */
  readonly imageSource?: ImageSource;
  /** ISO-8601 timestamp of the change. */
  readonly at: string;
}

/** A state change as stored on the durable feed: `seq` rises forever, across restarts. */
export interface StateChange extends NewStateChange {
  readonly seq: number;
}

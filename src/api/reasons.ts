/**
 * Stable reason codes carried by container views and state-change events.
 * Clients match on the code; the accompanying message is for people and may change.
 */
export const REASON_CODES = [
  /** The control plane asked for the task to stop. */
  'TaskStopRequested',
  /** An essential container of the task stopped, so the whole task is stopping. */
  'EssentialContainerExited',
  /** The container exited on its own (non-essential, or the essential one itself). */
  'ContainerExited',
  /** The container vanished from Docker while the agent expected it. */
  'ContainerMissing',
  /** The container was killed by the kernel's OOM killer. */
  'OutOfMemory',
  /** Pulling the image failed. */
  'PullFailed',
  /** Docker refused to create the container. */
  'CreateFailed',
  /** Docker refused to start the container. */
  'StartFailed',
  /** A Docker call did not answer in time. */
  'DockerTimeout',
  /** The task stopped before this container was ever started. */
  'TaskStoppedBeforeStart',
  /** A host port the container publishes is taken; the message names it. */
  'PortConflict',
  /** A dependency reached a state that can never satisfy the condition (a SUCCESS dependency exited non-zero, a dependency stopped before it started or became healthy). */
  'DependencyFailed',
  /** A dependency did not reach the condition within its startTimeout. */
  'DependencyTimeout',
  /** A shared volume the container mounts does not exist, and autoprovision is off. */
  'VolumeMissing',
  /** Docker refused to create a task volume. */
  'VolumeFailed',
  /** The task waits in the admission queue until the host has the CPU, memory and ports it reserves. */
  'WaitingForResources',
  /**
   * The container exited and its restartPolicy restarts it in place: only on the STOPPED event
   * that ends one incarnation; the next (restartCount + 1) follows, from CREATED.
   */
  'ContainerRestarting',
  /**
   * A template variable in the container's environment could not be resolved from the container it
   * names (an ambiguous host, an index out of range, an unset value): the container is never created.
   */
  'TemplateVariableUnresolved',
  /**
   * Docker's container no longer matches the agent's record: its definition-hash label differs,
   * or it runs another image than the one recorded. Recreated only with --recreate-on-drift.
   */
  'ContainerDrifted',
  /** The container's old instance was stopped and removed because a new definition changed it. */
  'ContainerRecreated',
  /** Task events only: another task source claims the task's arn too; the message names the owner and the others (README "Task sources"). */
  'SourceConflict',
  /** Task events only: the task is claimed by one source again. */
  'SourceConflictResolved',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

export interface Reason {
  readonly code: ReasonCode;
  readonly message: string;
}

export function reason(code: ReasonCode, message: string): Reason {
  return { code, message };
}

export function isReasonCode(value: string): value is ReasonCode {
  return (REASON_CODES as readonly string[]).includes(value);
}

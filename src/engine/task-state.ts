import { dockerNameFor } from '../api/labels.js';
import { reason, type Reason, type ReasonCode } from '../api/reasons.js';
import { higherDesired, laterStatus, statusRank, type ContainerStatus, type DesiredStatus } from '../api/status.js';
import { taskSettings, type ContainerState, type TaskDefinition, type TaskState } from '../api/task.js';

/**
 * Pure rules about a task's state. Nothing here performs I/O; the engine builds every new
 * TaskState through these functions and the planner reads them.
 */

/** A newly accepted task; its containers' Docker names are fixed here, before anything is made. */
export function newTaskState(def: TaskDefinition, now: number, agentId: string): TaskState {
  return settle(
    {
      arn: def.arn,
      family: def.family,
      version: def.version,
      desiredStatus: def.desiredStatus,
      knownStatus: 'NONE',
      settings: taskSettings(def),
      provisionedVolumes: [],
      createdAt: now,
      updatedAt: now,
      containers: def.containers.map(
        (definition): ContainerState => ({
          definition,
          dockerName: dockerNameFor({
            taskArn: def.arn,
            family: def.family,
            version: def.version,
            containerName: definition.name,
          }, agentId),
          desiredStatus: def.desiredStatus,
          knownStatus: 'NONE',
          portBindings: [],
        }),
      ),
    },
    now,
  );
}

/** The lowest container status: a task is RUNNING once all its containers run, STOPPED once all stopped. */
export function deriveKnownStatus(containers: readonly ContainerState[]): ContainerStatus {
  let lowest: ContainerStatus = 'STOPPED';
  for (const c of containers) {
    if (statusRank(c.knownStatus) < statusRank(lowest)) lowest = c.knownStatus;
  }
  return lowest;
}

/** Reasons that mean a container stopped by itself rather than because the agent stopped it. */
const AGENT_STOP_REASONS: ReadonlySet<ReasonCode> = new Set([
  'TaskStopRequested',
  'EssentialContainerExited',
  'TaskStoppedBeforeStart',
]);

/** The first essential container that stopped on its own, if any: the cause of the task stopping. */
export function stoppedEssential(task: TaskState): ContainerState | undefined {
  return task.containers.find(
    (c) =>
      c.definition.essential &&
      c.knownStatus === 'STOPPED' &&
      !(c.reason && AGENT_STOP_REASONS.has(c.reason.code)),
  );
}

/** Why the agent is stopping the task's remaining containers. */
export function taskStopReason(task: TaskState): Reason {
  const culprit = stoppedEssential(task);
  if (culprit) {
    const exit = culprit.exitCode === undefined ? '' : ` with exit code ${culprit.exitCode}`;
    return reason('EssentialContainerExited', `essential container ${culprit.definition.name} stopped${exit}`);
  }
  if (task.containers.every((c) => c.knownStatus === 'STOPPED' && c.reason && !AGENT_STOP_REASONS.has(c.reason.code))) {
    return reason('ContainerExited', 'every container of the task exited');
  }
  return reason('TaskStopRequested', 'the task was asked to stop');
}

/**
 * Brings a task to a consistent state after any change:
 * - an essential container that stopped, or every container having stopped, raises the task's
 *   desired status to STOPPED (a task never runs again once it stopped);
 * - every container's desired status is at least the task's;
 * - the task's known status is derived from its containers, and `stoppedAt` set when it first stops.
 *   It only moves forward: a container restarted in place is CREATED again, but its task stays
 *   RUNNING (as in ECS, where a restart never reaches the task's status).
 */
export function settle(task: TaskState, now: number): TaskState {
  const allStopped = task.containers.every((c) => c.knownStatus === 'STOPPED');
  const desiredStatus: DesiredStatus =
    task.desiredStatus === 'RUNNING' && (allStopped || stoppedEssential(task)) ? 'STOPPED' : task.desiredStatus;
  const containers = task.containers.map((c) =>
    higherDesired(c.desiredStatus, desiredStatus) === c.desiredStatus
      ? c
      : { ...c, desiredStatus: higherDesired(c.desiredStatus, desiredStatus) },
  );
  const knownStatus = laterStatus(task.knownStatus, deriveKnownStatus(containers));
  const changed =
    desiredStatus !== task.desiredStatus ||
    knownStatus !== task.knownStatus ||
    containers.some((c, i) => c !== task.containers[i]);
  if (!changed) return task;
  return {
    ...task,
    desiredStatus,
    knownStatus,
    containers,
    updatedAt: now,
    ...(knownStatus === 'STOPPED' && task.stoppedAt === undefined ? { stoppedAt: now } : {}),
  };
}

/** Raises the task's desired status; a lower one is ignored (desired statuses only rise). */
export function raiseDesired(task: TaskState, desired: DesiredStatus, now: number): TaskState {
  const next = higherDesired(task.desiredStatus, desired);
  if (next === task.desiredStatus) return task;
  return settle({ ...task, desiredStatus: next, updatedAt: now }, now);
}

/** Replaces one container (by name) in a task, then settles the task. */
export function updateContainer(
  task: TaskState,
  name: string,
  update: (c: ContainerState) => ContainerState,
  now: number,
): TaskState {
  let touched = false;
  const containers = task.containers.map((c) => {
    if (c.definition.name !== name) return c;
    const next = update(c);
    if (next !== c) touched = true;
    return next;
  });
  if (!touched) return task;
  return settle({ ...task, containers, updatedAt: now }, now);
}

export function findContainer(task: TaskState, name: string): ContainerState | undefined {
  return task.containers.find((c) => c.definition.name === name);
}

/** A task is done when it is STOPPED and wants to be. */
export function isTaskDone(task: TaskState): boolean {
  return task.knownStatus === 'STOPPED' && task.desiredStatus === 'STOPPED';
}

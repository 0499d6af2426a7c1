import type { NewStateChange } from '../api/events.js';
import type { ContainerState, TaskState } from '../api/task.js';
import { statusRank } from '../api/status.js';
import { taskStopReason } from './task-state.js';

/**
 * The ContainerStateChange and TaskStateChange events a task's transition implies: one per
 * container whose known status or health moved, then one for the task if its known status moved.
 * A repeat of the same status and health implies nothing, so duplicates cannot reach the feed.
 */
export function stateChanges(before: TaskState | undefined, after: TaskState, at: string): NewStateChange[] {
  const events: NewStateChange[] = [];
  for (const c of after.containers) {
    const was = before?.containers.find((p) => p.definition.name === c.definition.name);
    const previous = was?.knownStatus ?? 'NONE';
    if (previous === c.knownStatus) {
      // A health verdict is a change of its own, reported with the status it happened in.
      if (c.health !== undefined && c.health !== was?.health) events.push(containerChange(after.arn, c, at));
      continue;
    }
    // A container that ran and exited between two looks did run: clients waiting for RUNNING see it.
    if (c.knownStatus === 'STOPPED' && c.startedAt !== undefined && statusRank(previous) < statusRank('RUNNING')) {
      events.push(containerChange(after.arn, { ...c, knownStatus: 'RUNNING', exitCode: undefined, reason: undefined }, at));
    }
    events.push(containerChange(after.arn, c, at));
  }
  if ((before?.knownStatus ?? 'NONE') !== after.knownStatus) {
    const why = after.knownStatus === 'STOPPED' ? taskStopReason(after) : undefined;
    events.push({
      type: 'task',
      taskArn: after.arn,
      status: after.knownStatus,
      ...(why ? { reason: why.code, reasonMessage: why.message } : {}),
      at,
    });
  }
  return events;
}

/** Every event carries the container's full last record, so a stop event has its ID, exit code and ports. */
function containerChange(taskArn: string, c: ContainerState, at: string): NewStateChange {
  return {
    type: 'container',
    taskArn,
    containerName: c.definition.name,
    ...(c.dockerId ? { dockerId: c.dockerId } : {}),
    status: c.knownStatus,
    ...(c.exitCode === undefined ? {} : { exitCode: c.exitCode }),
    ...(c.reason ? { reason: c.reason.code, reasonMessage: c.reason.message } : {}),
    ...(c.portBindings.length > 0 ? { portBindings: c.portBindings } : {}),
    ...(c.health === undefined ? {} : { health: c.health }),
    ...(c.imageDigest === undefined ? {} : { imageDigest: c.imageDigest }),
    ...(c.imageSource === undefined ? {} : { imageSource: c.imageSource }),
    at,
  };
}

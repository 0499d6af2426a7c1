import type { ContainerAction, NewStateChange } from '../api/events.js';
import { serviceName } from '../api/labels.js';
import { generationOf, type ContainerState, type TaskState } from '../api/task.js';
import { statusRank } from '../api/status.js';
import { restartReason } from './restart-policy.js';
import { taskStopReason } from './task-state.js';

/**
 * The ContainerStateChange and TaskStateChange events a task's transition implies: one per
 * container whose known status or health moved, then one for the task if its known status moved.
 * A repeat of the same status and health implies nothing, so duplicates cannot reach the feed.
 * Statuses move forward within one incarnation of a container (its restartCount), so the feed
 * never reports the same (container, restartCount, status) twice.
 */
export function stateChanges(before: TaskState | undefined, after: TaskState, at: string): NewStateChange[] {
  const events: NewStateChange[] = [];
  for (const c of after.containers) {
    const was = before?.containers.find((p) => p.definition.name === c.definition.name);
    if (was && isReplaced(was, c)) {
      // A new definition (or drift) replaced its instance: the old one ends; the new one reports from its first status on.
      if (was.knownStatus !== 'STOPPED') events.push(replacedChange(after, was, at));
      continue;
    }
    if (was && (c.restartCount ?? 0) > (was.restartCount ?? 0)) {
      events.push(...restartChanges(after, was, c, at));
      continue;
    }
    const previous = was?.knownStatus ?? 'NONE';
    if (previous === c.knownStatus) {
      // A health verdict is a change of its own, reported with the status it happened in.
      if (c.health !== undefined && c.health !== was?.health) {
        events.push(containerChange(after, c, at, c.knownStatus === 'RUNNING' ? 'update' : undefined));
      }
      continue;
    }
    // A container that ran and exited between two looks did run: clients waiting for RUNNING see it.
    const ranUnseen = c.knownStatus === 'STOPPED' && c.startedAt !== undefined && statusRank(previous) < statusRank('RUNNING');
    if (ranUnseen) {
      events.push(containerChange(after, { ...c, knownStatus: 'RUNNING', exitCode: undefined, reason: undefined }, at, 'start'));
    }
    events.push(containerChange(after, c, at, moveAction(previous, c)));
  }
  for (const was of before?.containers ?? []) {
    if (was.knownStatus !== 'STOPPED' && !after.containers.some((c) => c.definition.name === was.definition.name)) events.push(replacedChange(after, was, at));
  }
  const newGeneration = before !== undefined && generationOf(before) !== generationOf(after);
  if ((before?.knownStatus ?? 'NONE') !== after.knownStatus || newGeneration) {
    const why = after.knownStatus === 'STOPPED' ? taskStopReason(after) : undefined;
    events.push({
      type: 'task',
      taskArn: after.arn,
      status: after.knownStatus,
      ...(why ? { reason: why.code, reasonMessage: why.message } : {}),
      ...generationField(after),
      at,
    });
  }
  events.push(...conflictChanges(before, after, at));
  return events;
}

/** Absent for the first generation, as restartCount is for the first incarnation. */
function generationField(task: TaskState): { generation?: number } {
  return task.generation !== undefined && task.generation > 1 ? { generation: task.generation } : {};
}

/** A container's record back at NONE after it got further: its instance was replaced (nothing else moves a status back to NONE). */
function isReplaced(was: ContainerState, c: ContainerState): boolean {
  return c.knownStatus === 'NONE' && was.knownStatus !== 'NONE';
}

/** The end of an old instance, recreated or dropped: it is being stopped and removed by the agent. */
function replacedChange(task: TaskState, was: ContainerState, at: string): NewStateChange {
  const ended: ContainerState = {
    ...was,
    knownStatus: 'STOPPED',
    exitCode: undefined,
    reason: { code: 'ContainerRecreated', message: `container ${was.definition.name} is replaced: its old instance is stopped and removed` },
  };
  return containerChange(task, ended, at, was.knownStatus === 'RUNNING' ? 'stop' : undefined);
}

/** A conflict between task sources starting, changing or ending is a task event of its own (README "Task sources"). */
function conflictChanges(before: TaskState | undefined, after: TaskState, at: string): NewStateChange[] {
  const was = (before?.conflicts ?? []).join(', ');
  const now = (after.conflicts ?? []).join(', ');
  if (was === now) return [];
  const message = now ? `also claimed by ${now}; ${after.source ?? 'the first claimant'} keeps it` : `claimed by ${after.source ?? 'one source'} alone again`;
  return [{ type: 'task', taskArn: after.arn, status: after.knownStatus, reason: now ? 'SourceConflict' : 'SourceConflictResolved', reasonMessage: message, at }];
}

/**
 * A restart in place: the incarnation that exited ends with its STOPPED (its exit code, reason
 * ContainerRestarting; RUNNING first if it was never seen running, since it did run), and the new
 * one begins at its own status.
 */
function restartChanges(task: TaskState, was: ContainerState, c: ContainerState, at: string): NewStateChange[] {
  const events: NewStateChange[] = [];
  const ended: ContainerState = { ...was, exitCode: undefined, reason: undefined };
  if (statusRank(was.knownStatus) < statusRank('RUNNING')) events.push(containerChange(task, { ...ended, knownStatus: 'RUNNING' }, at, 'start'));
  events.push(containerChange(task, { ...ended, knownStatus: 'STOPPED', exitCode: c.lastExitCode, reason: restartReason(c) }, at, 'stop'));
  events.push(containerChange(task, c, at, moveAction('NONE', c)));
  return events;
}

/**
 * The action a status move implies: RUNNING starts the container; STOPPED stops it if it ran
 * (a container that failed before running never started, so it has nothing to stop).
 */
function moveAction(previous: ContainerState['knownStatus'], c: ContainerState): ContainerAction | undefined {
  if (c.knownStatus === 'RUNNING') return 'start';
  if (c.knownStatus === 'STOPPED' && (previous === 'RUNNING' || c.startedAt !== undefined)) return 'stop';
  return undefined;
}

/** Every event carries the container's full last record, so a stop event has its ID, exit code, ports and labels. */
function containerChange(task: TaskState, c: ContainerState, at: string, action: ContainerAction | undefined): NewStateChange {
  const labels = c.definition.labels;
  return {
    type: 'container',
    taskArn: task.arn,
    containerName: c.definition.name,
    ...(c.dockerId ? { dockerId: c.dockerId } : {}),
    status: c.knownStatus,
    ...(c.exitCode === undefined ? {} : { exitCode: c.exitCode }),
    ...(c.reason ? { reason: c.reason.code, reasonMessage: c.reason.message } : {}),
    ...(c.portBindings.length > 0 ? { portBindings: c.portBindings } : {}),
    ...(c.health === undefined ? {} : { health: c.health }),
    ...(c.restartCount ? { restartCount: c.restartCount } : {}),
    ...(c.imageDigest === undefined ? {} : { imageDigest: c.imageDigest }),
    ...(c.imageSource === undefined ? {} : { imageSource: c.imageSource }),
    ...(action ? { action } : {}),
    service: serviceName(task.family, c.definition.name),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...generationField(task),
    at,
  };
}

import { LABELS } from '../../api/labels.js';
import { reason, type Reason } from '../../api/reasons.js';
import type { ContainerState, TaskState } from '../../api/task.js';
import type { ContainerInfo } from '../../docker/docker-client.js';
import { settle, updateContainer } from '../task-state.js';
import { labelMatches } from './definition-hash.js';

/*
 * Pure rules for a container's instances: drift (Docker's container no longer matches the record,
 * read from the inspect the engine makes anyway) and retirement (an old instance leaves the
 * containers for `retiring`, to be stopped and removed).
 */

/**
 * Why Docker's container is not what the record says it was made from, if it is not: its
 * definition-hash label differs (someone made another container under our name and labels), or it
 * runs another image than the one recorded (replaced behind the agent's back). A container without
 * the label was made before labels carried hashes: not drift.
 */
export function driftOf(task: TaskState, c: ContainerState, info: ContainerInfo): Reason | undefined {
  const label = info.labels[LABELS.definitionHash];
  const name = c.definition.name;
  if (label !== undefined && !labelMatches(label, c.definition, task.settings)) {
    return reason('ContainerDrifted', `container ${name} (${info.id.slice(0, 12)}) was not made from its definition: its ${LABELS.definitionHash} label is ${label}`);
  }
  if (c.imageId !== undefined && info.imageId !== undefined && info.imageId !== c.imageId) {
    return reason('ContainerDrifted', `container ${name} (${info.id.slice(0, 12)}) runs image ${info.imageId}, not ${c.imageId} as recorded`);
  }
  return undefined;
}

/** Running containers whose image reference now resolves (`imageIds`: ref → local image ID) to another image than their record's. */
export function retaggedImages(tasks: readonly TaskState[], imageIds: ReadonlyMap<string, string>): { arn: string; container: string; why: Reason }[] {
  const found: { arn: string; container: string; why: Reason }[] = [];
  for (const t of tasks) {
    for (const c of t.containers) {
      const now = imageIds.get(c.definition.image);
      if (c.knownStatus !== 'RUNNING' || c.drift || !c.imageId || now === undefined || now === c.imageId) continue;
      const why = reason('ContainerDrifted', `image ${c.definition.image} of container ${c.definition.name} was re-tagged: it is ${now} now, the container runs ${c.imageId}`);
      found.push({ arn: t.arn, container: c.definition.name, why });
    }
  }
  return found;
}

/** Records a drift found outside an inspect (a re-tag); the first one seen is kept. */
export function markDrift(task: TaskState, name: string, why: Reason, now: number): TaskState {
  return updateContainer(task, name, (c) => (c.drift || c.knownStatus === 'STOPPED' ? c : { ...c, drift: why }), now);
}

/**
 * A drifted container's instance (its current Docker ID) becomes retiring and the container starts
 * afresh, in one saved change: the stop that follows is the agent's, never an exit of the task's.
 */
export function retire(task: TaskState, name: string, dockerId: string, now: number): TaskState {
  const c = task.containers.find((x) => x.definition.name === name);
  if (!c || c.dockerId !== dockerId) return task;
  const next = updateContainer(task, name, (x) => fresh(x), now);
  return { ...next, retiring: [...(task.retiring ?? []), { name, dockerId, dockerName: c.dockerName, stopTimeout: c.definition.stopTimeout, after: [] }] };
}

/** The container as it is before anything is made of it: its definition, name and desired status. */
export function fresh(c: ContainerState): ContainerState {
  return { definition: c.definition, dockerName: c.dockerName, desiredStatus: c.desiredStatus, knownStatus: 'NONE', portBindings: [] };
}

/** An old instance is gone from Docker: it leaves `retiring`. */
export function retired(task: TaskState, name: string, ref: string, now: number): TaskState {
  const list = task.retiring ?? [];
  const left = list.filter((r) => !(r.name === name && (r.dockerId ?? r.dockerName) === ref));
  if (left.length === list.length) return task;
  const { retiring: _retiring, ...rest } = task;
  return settle({ ...rest, ...(left.length > 0 ? { retiring: left } : {}), updatedAt: now }, now);
}

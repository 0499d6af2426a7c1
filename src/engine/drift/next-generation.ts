import { containerEdges } from '../../api/dependency-edges.js';
import { dockerNameFor } from '../../api/labels.js';
import { statusRank } from '../../api/status.js';
import { generationOf, taskSettings, type ContainerState, type RetiringContainer, type TaskDefinition, type TaskState } from '../../api/task.js';
import { deriveKnownStatus, settle } from '../task-state.js';
import { planDefinitionChange } from './definition-change.js';

/**
 * The task under a new definition: its next generation. Kept containers carry on with their
 * Docker container (the new definition, same ID); recreated and new ones start afresh from NONE;
 * the old instances of recreated and dropped containers become `retiring`, in this same saved
 * change, so nothing in Docker is touched before the state says what is to be done. Desired status
 * starts over from the new definition's: within a generation it still only rises.
 */
export function nextGeneration(current: TaskState, def: TaskDefinition, now: number, agentId: string): TaskState {
  const change = planDefinitionChange(current, def);
  const action = new Map(change.containers.map((c) => [c.name, c.action]));
  const containers = def.containers.map((definition): ContainerState => {
    const old = current.containers.find((c) => c.definition.name === definition.name);
    if (old && action.get(definition.name) === 'keep') return { ...old, definition, desiredStatus: def.desiredStatus };
    return {
      definition,
      dockerName: dockerNameFor({ taskArn: def.arn, family: def.family, version: def.version, containerName: definition.name }, agentId),
      desiredStatus: def.desiredStatus,
      knownStatus: 'NONE',
      portBindings: [],
    };
  });
  const leaving = current.containers.filter((c) => action.get(c.definition.name) !== 'keep' && reachedDocker(current, c));
  const retiring = [...(current.retiring ?? []), ...leaving.map((c) => retiringOf(current, c, leaving))];
  // A new definition is accepted under this build's parse rules (TaskState.rules): the old one's number is not inherited.
  const { stoppedAt: _stoppedAt, retiring: _retiring, rules: _rules, ...rest } = current;
  const restarting = current.knownStatus === 'STOPPED' && def.desiredStatus === 'RUNNING';
  return settle(
    {
      ...rest,
      family: def.family,
      version: def.version,
      desiredStatus: def.desiredStatus,
      // A running task stays RUNNING while some of its containers are made anew (as a restart in
      // place does); a stopped one starts over with its new containers.
      knownStatus: restarting ? deriveKnownStatus(containers) : current.knownStatus,
      settings: taskSettings(def),
      containers,
      generation: generationOf(current) + 1,
      ...(retiring.length > 0 ? { retiring } : {}),
      ...(!restarting && current.stoppedAt !== undefined ? { stoppedAt: current.stoppedAt } : {}),
      updatedAt: now,
    },
    now,
  );
}

/**
 * Whether an instance may exist in Docker: it has an ID, or it got as far as its create (whose
 * answer may have been lost). One whose name is still retiring was never created: its create waits
 * for the old instance to be gone.
 */
function reachedDocker(task: TaskState, c: ContainerState): boolean {
  if (c.dockerId) return true;
  if (task.retiring?.some((r) => r.name === c.definition.name)) return false;
  return statusRank(c.knownStatus) >= statusRank('PULLED') && c.knownStatus !== 'STOPPED';
}

function retiringOf(task: TaskState, c: ContainerState, leaving: readonly ContainerState[]): RetiringContainer {
  const old = { pidMode: task.settings.pidMode, ipcMode: task.settings.ipcMode, containers: task.containers.map((x) => x.definition) };
  // Dependents stop before their dependencies, along the old definition's edges.
  const after = leaving
    .filter((x) => x !== c && containerEdges(old, x.definition).some((e) => e.on === c.definition.name))
    .map((x) => x.definition.name);
  return {
    name: c.definition.name,
    ...(c.dockerId ? { dockerId: c.dockerId } : {}),
    dockerName: c.dockerName,
    stopTimeout: c.definition.stopTimeout,
    after,
  };
}

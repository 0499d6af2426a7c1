import { isDeepStrictEqual } from 'node:util';
import { isReasonCode, reason, type Reason, type ReasonCode } from '../api/reasons.js';
import { isAfter, laterStatus, type ContainerStatus } from '../api/status.js';
import type { ContainerState, HealthStatus, TaskState } from '../api/task.js';
import type { ContainerInfo } from '../docker/docker-client.js';
import { BerthError, VolumeNotFoundError, errorMessage } from '../errors.js';
import type { ActionKind, Outcome } from './actions.js';
import { isAnsweredExit, restartDecision } from './restart-policy.js';
import { findContainer, taskStopReason, updateContainer } from './task-state.js';
import { withImage } from './images/image-facts.js';
import { driftOf, retire, retired } from './drift/drift.js';

/**
 * Pure: how an outcome changes a task. Statuses only move forward, so a late, duplicate or
 * out-of-order observation can never undo what is already known. The one exception is a restart
 * in place (nextIncarnation): a new incarnation of the container starts again from CREATED.
 */
export function applyOutcome(task: TaskState, outcome: Outcome, now: number): TaskState | 'forget' {
  switch (outcome.kind) {
    case 'cleaned':
      return 'forget';
    case 'failed':
      return task;
    case 'pulled':
      return updateContainer(task, outcome.container, (c) => withImage(advance(c, 'PULLED', {}), outcome.image), now);
    case 'abandoned':
      return updateContainer(
        task,
        outcome.container,
        (c) => advance(c, 'STOPPED', { reason: outcome.reason ?? reason('TaskStoppedBeforeStart', taskStopReason(task).message) }),
        now,
      );
    case 'cancelled':
      // Aborted because the agent is closing, the container still wants to run: the pull starts again next time.
      return findContainer(task, outcome.container)?.desiredStatus === 'STOPPED'
        ? applyOutcome(task, { kind: 'abandoned', container: outcome.container }, now)
        : task;
    case 'volume-ready':
      return task.provisionedVolumes.includes(outcome.volume)
        ? task
        : { ...task, provisionedVolumes: [...task.provisionedVolumes, outcome.volume], updatedAt: now };
    case 'gone':
      return updateContainer(task, outcome.container, (c) => gone(c, now), now);
    case 'observed':
      return updateContainer(task, outcome.container, (c) => observe(task, c, outcome.info, now), now);
    case 'retired':
      return retired(task, outcome.container, outcome.ref, now);
    case 'recreating':
      return retire(task, outcome.container, outcome.dockerId, now);
  }
}

/**
 * A failed action the engine cannot recover from: its container stops with the failure as its
 * reason, or, for a volume, every container still waiting to mount it does.
 */
export function applyGiveUp(task: TaskState, failure: Extract<Outcome, { kind: 'failed' }>, now: number): TaskState {
  const why = reason(failureReason(failure.action, failure.error), errorMessage(failure.error));
  const stop = (c: ContainerState): ContainerState => advance(c, 'STOPPED', { reason: why, finishedAt: now });
  if (failure.container !== undefined) return updateContainer(task, failure.container, stop, now);
  const volume = failure.volume;
  if (volume === undefined) return task;
  let next = task;
  for (const c of task.containers) {
    if (c.knownStatus === 'NONE' || c.knownStatus === 'PULLED') {
      if (c.definition.mountPoints.some((m) => m.sourceVolume === volume)) next = updateContainer(next, c.definition.name, stop, now);
    }
  }
  return next;
}

/** An error whose code is itself a reason (PortConflict, PullFailed, DockerTimeout) gives it; else the action does. */
function failureReason(action: ActionKind, error: unknown): ReasonCode {
  if (error instanceof BerthError && isReasonCode(error.code)) return error.code;
  if (error instanceof VolumeNotFoundError) return 'VolumeMissing';
  switch (action) {
    case 'pull':
      return 'PullFailed';
    case 'start':
      return 'StartFailed';
    case 'provision-volume':
      return 'VolumeFailed';
    default:
      return 'CreateFailed';
  }
}

/** A container Docker no longer has. Before it was created that just means no orphan exists. */
function gone(c: ContainerState, now: number): ContainerState {
  if (c.knownStatus === 'STOPPED' || !isAfter(c.knownStatus, 'PULLED')) return c;
  return advance(c, 'STOPPED', {
    reason: reason('ContainerMissing', `container ${c.dockerId ?? c.dockerName} is gone from Docker`),
    finishedAt: now,
  });
}

function statusOf(info: ContainerInfo): ContainerStatus {
  switch (info.state) {
    case 'created':
      return 'CREATED';
    case 'exited':
    case 'dead':
      return 'STOPPED';
    default:
      return 'RUNNING';
  }
}

/**
 * Merges Docker's view of a container into the agent's record. Facts learned on the way (its ID,
 * port bindings, times) are kept even when the status itself cannot move; an observation that
 * adds nothing returns the record unchanged, so it causes no write and no event.
 */
function observe(task: TaskState, c: ContainerState, info: ContainerInfo, now: number): ContainerState {
  if (c.knownStatus === 'STOPPED') return c;
  // The exit a restart already answered belongs to the previous incarnation: this one has not run.
  const answered = isAnsweredExit(c, info);
  const docker = answered ? 'CREATED' : statusOf(info);
  // Docker keeps a stopped, never-started container "created"; unwanted, it will never run.
  const status = docker === 'CREATED' && c.desiredStatus === 'STOPPED' ? 'STOPPED' : docker;
  const { pid: _pid, ...withoutPid } = c;
  const adopted: ContainerState = {
    ...withoutPid,
    dockerId: info.id,
    ...optional('createdAt', c.createdAt ?? info.createdAt),
    ...optional('startedAt', c.startedAt ?? (answered ? undefined : info.startedAt)),
    portBindings: info.portBindings.length > 0 ? info.portBindings : c.portBindings,
    ...runtimeFacts(c, info),
    // Docker reads a stopped container as unhealthy: the last verdict while it ran is the one kept.
    ...optional('health', statusOf(info) === 'STOPPED' ? c.health : healthOf(c, info)),
    ...optional('drift', c.drift ?? driftOf(task, c, info)),
  };
  let next: ContainerState;
  if (docker === 'STOPPED') {
    const decision = restartDecision(c, info, now);
    next =
      decision.kind === 'restart'
        ? nextIncarnation(adopted, info, now)
        : advance(adopted, 'STOPPED', { exitCode: info.exitCode, finishedAt: info.finishedAt, reason: stopReason(task, c, info, decision.why) });
  } else {
    next = advance(adopted, status, status === 'STOPPED' ? { reason: stopReason(task, c, info) } : {});
  }
  return isDeepStrictEqual(next, c) ? c : next;
}

/**
 * A restart in place: the same Docker container, started again, as a new incarnation. The one
 * sanctioned step back in the status order (which holds per incarnation): the record returns to
 * CREATED, so the planner starts it as it starts any created container. The restart count, the
 * exit it answers and when are saved in this same state change, before Docker is asked to start
 * anything: an agent killed after this save restarts the container once, not twice.
 */
function nextIncarnation(c: ContainerState, exit: ContainerInfo, now: number): ContainerState {
  // What belonged to the run that ended: its times, exit, reason, health and (dynamic) ports.
  const { exitCode: _exitCode, reason: _reason, startedAt: _startedAt, finishedAt: _finishedAt, health: _health, pid: _pid, ...kept } = c;
  return {
    ...kept,
    knownStatus: 'CREATED',
    portBindings: [],
    restartCount: (c.restartCount ?? 0) + 1,
    ...optional('lastExitCode', exit.exitCode),
    lastRestartAt: now,
    ...optional('lastFinishedAt', exit.finishedAt),
  };
}

/**
 * Where the container lives, for the services view, template variables and the metadata file:
 * read while it runs; once it stops the networks and hostname of its last run are kept, the PID is not.
 */
function runtimeFacts(c: ContainerState, info: ContainerInfo): Pick<ContainerState, 'networks' | 'pid' | 'hostname'> {
  const running = info.state === 'running';
  return dropUndefined({
    networks: running ? (info.networks ?? c.networks) : c.networks,
    pid: running ? info.pid : undefined,
    hostname: running ? (info.hostname ?? c.hostname) : c.hostname,
  });
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Docker's health verdict in ECS's terms; only for a container whose definition has a healthCheck. */
function healthOf(c: ContainerState, info: ContainerInfo): HealthStatus | undefined {
  if (!c.definition.healthCheck) return undefined;
  switch (info.health) {
    case 'healthy':
      return 'HEALTHY';
    case 'unhealthy':
      return 'UNHEALTHY';
    default:
      return 'UNKNOWN';
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** `notRestarted`: why a container whose restartPolicy is enabled was not restarted. */
function stopReason(task: TaskState, c: ContainerState, info: ContainerInfo, notRestarted?: string): Reason {
  const why = notRestarted === undefined ? '' : `; not restarted: ${notRestarted}`;
  if (info.oomKilled) return reason('OutOfMemory', `container ${c.definition.name} was killed for running out of memory${why}`);
  if (c.desiredStatus === 'STOPPED') return taskStopReason(task);
  const code = info.exitCode === undefined ? '' : ` with exit code ${info.exitCode}`;
  return reason('ContainerExited', `container ${c.definition.name} exited${code}${why}`);
}

/** Moves a container forward to `status`, recording the facts of a stop; never moves it back. */
function advance(
  c: ContainerState,
  status: ContainerStatus,
  facts: { exitCode?: number | undefined; reason?: Reason; finishedAt?: number | undefined },
): ContainerState {
  const next = laterStatus(c.knownStatus, status);
  if (next === c.knownStatus) return c;
  const moved: ContainerState = { ...c, knownStatus: next };
  if (next !== 'STOPPED') return moved;
  return {
    ...moved,
    ...(facts.exitCode === undefined ? {} : { exitCode: facts.exitCode }),
    ...(facts.reason ? { reason: facts.reason } : {}),
    ...(facts.finishedAt === undefined ? {} : { finishedAt: facts.finishedAt }),
  };
}

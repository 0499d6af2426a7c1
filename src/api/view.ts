import type { ContainerStatus, DesiredStatus } from './status.js';
import { generationOf, isWaitingForResources, type HealthStatus, type ImageSource, type PortBinding, type TaskState } from './task.js';
import type { ReasonCode } from './reasons.js';
import { taskHealth } from './health.js';

/** A task as the socket API and the CLI show it. Times are ISO-8601 strings. */
export interface TaskView {
  readonly arn: string;
  readonly family: string;
  readonly version: string;
  readonly desiredStatus: DesiredStatus;
  readonly knownStatus: ContainerStatus;
  /** Derived from the essential containers' health checks, as ECS does. */
  readonly health: HealthStatus;
  readonly createdAt: string;
  readonly stoppedAt?: string;
  /** Only while the task waits for host resources: `WaitingForResources`, and what it waits for. */
  readonly reason?: ReasonCode;
  readonly reasonMessage?: string;
  /** Which definition of the task this is: 1, then one more for each new definition (src/engine/drift/). */
  readonly generation: number;
  /** Old instances (of recreated or dropped containers) still being stopped and removed, by name. */
  readonly retiring?: readonly string[];
  /** The task source that owns the task (README "Task sources"); absent: accepted before sources existed. */
  readonly source?: string;
  /** Other sources claiming the same arn; absent: none. */
  readonly conflicts?: readonly string[];
  readonly containers: readonly ContainerView[];
}

export interface ContainerView {
  readonly name: string;
  readonly image: string;
  readonly essential: boolean;
  readonly dockerId?: string;
  readonly dockerName: string;
  readonly desiredStatus: DesiredStatus;
  readonly knownStatus: ContainerStatus;
  readonly exitCode?: number;
  /** Only for a container with a healthCheck. */
  readonly health?: HealthStatus;
  readonly reason?: string;
  readonly reasonMessage?: string;
  readonly portBindings: readonly PortBinding[];
  readonly imageId?: string;
  readonly imageDigest?: string;
  readonly imageSource?: ImageSource;
  /** Present when the pull failed and a cached image was used: why the pull failed. */
  readonly pullFailure?: string;
  readonly createdAt?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** How many times its restartPolicy restarted the container (absent: never), the exit code the last restart followed, and when. */
  readonly restartCount?: number;
  readonly lastExitCode?: number;
  readonly lastRestartAt?: string;
  /** Present when Docker's container changed behind the agent's back: `ContainerDrifted`, and how. */
  readonly drift?: string;
  readonly driftMessage?: string;
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export function taskView(t: TaskState): TaskView {
  return {
    arn: t.arn,
    family: t.family,
    version: t.version,
    desiredStatus: t.desiredStatus,
    knownStatus: t.knownStatus,
    health: taskHealth(t),
    createdAt: iso(t.createdAt)!,
    ...(t.stoppedAt === undefined ? {} : { stoppedAt: iso(t.stoppedAt) }),
    ...(t.waiting && isWaitingForResources(t) ? { reason: 'WaitingForResources' as const, reasonMessage: t.waiting.message } : {}),
    generation: generationOf(t),
    ...(t.retiring && t.retiring.length > 0 ? { retiring: t.retiring.map((r) => r.name) } : {}),
    ...(t.source === undefined ? {} : { source: t.source }),
    ...(t.conflicts && t.conflicts.length > 0 ? { conflicts: t.conflicts } : {}),
    containers: t.containers.map((c) => ({
      name: c.definition.name,
      image: c.definition.image,
      essential: c.definition.essential,
      ...(c.dockerId ? { dockerId: c.dockerId } : {}),
      dockerName: c.dockerName,
      desiredStatus: c.desiredStatus,
      knownStatus: c.knownStatus,
      ...(c.exitCode === undefined ? {} : { exitCode: c.exitCode }),
      ...(c.definition.healthCheck ? { health: c.health ?? 'UNKNOWN' } : {}),
      ...(c.reason ? { reason: c.reason.code, reasonMessage: c.reason.message } : {}),
      portBindings: c.portBindings,
      ...(c.imageId === undefined ? {} : { imageId: c.imageId }),
      ...(c.imageDigest === undefined ? {} : { imageDigest: c.imageDigest }),
      ...(c.imageSource === undefined ? {} : { imageSource: c.imageSource }),
      ...(c.pullFailure === undefined ? {} : { pullFailure: c.pullFailure }),
      ...(c.createdAt === undefined ? {} : { createdAt: iso(c.createdAt) }),
      ...(c.startedAt === undefined ? {} : { startedAt: iso(c.startedAt) }),
      ...(c.finishedAt === undefined ? {} : { finishedAt: iso(c.finishedAt) }),
      ...(c.restartCount === undefined ? {} : { restartCount: c.restartCount }),
      ...(c.lastExitCode === undefined ? {} : { lastExitCode: c.lastExitCode }),
      ...(c.lastRestartAt === undefined ? {} : { lastRestartAt: iso(c.lastRestartAt) }),
      ...(c.drift ? { drift: c.drift.code, driftMessage: c.drift.message } : {}),
    })),
  };
}

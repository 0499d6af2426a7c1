import { generationOf, type TaskState } from '../api/task.js';

/** What `<prefix>/hosts/<host>/status/<arn>` holds (README "Fleet on etcd"). */
export interface TaskStatusDoc {
  readonly arn: string;
  /** Which definition of the task this is: 1, then one more for each new definition (README "Drift and generations"). */
  readonly generation: number;
  readonly knownStatus: string;
  readonly desiredStatus: string;
  readonly containers: readonly {
    readonly name: string;
    readonly dockerId?: string;
    readonly knownStatus: string;
    readonly exitCode?: number;
    /** The stable reason code (src/api/reasons.ts) and its message. */
    readonly reason?: { readonly code: string; readonly message: string };
  }[];
  /** When the agent last changed the task (ISO 8601). */
  readonly updatedAt: string;
}

export function taskStatusDoc(task: TaskState): TaskStatusDoc {
  return {
    arn: task.arn,
    generation: generationOf(task),
    knownStatus: task.knownStatus,
    desiredStatus: task.desiredStatus,
    containers: task.containers.map((c) => ({
      name: c.definition.name,
      ...(c.dockerId === undefined ? {} : { dockerId: c.dockerId }),
      knownStatus: c.knownStatus,
      ...(c.exitCode === undefined ? {} : { exitCode: c.exitCode }),
      ...(c.reason === undefined ? {} : { reason: { code: c.reason.code, message: c.reason.message } }),
    })),
    updatedAt: new Date(task.updatedAt).toISOString(),
  };
}

/** The part of a status that counts as a change: everything but the time stamp. */
export function statusFingerprint(doc: TaskStatusDoc): string {
  const { updatedAt: _updatedAt, ...rest } = doc;
  return JSON.stringify(rest);
}

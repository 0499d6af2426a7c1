import type { ContainerState, TaskState } from '../api/task.js';
import type { Action } from './actions.js';
import { isTaskDone } from './task-state.js';

/**
 * The planner: task + what the engine knows → the actions to perform next. Pure — it performs
 * nothing and reads no clock; the reconciler calls it, the executor carries out what it returns.
 * Containers advance independently, so one plan may hold an action for each of them.
 */

/** The key under which a task's cleanup waits out its retry backoff in `PlanInput.retryAt`. */
export const CLEANUP_KEY = '#cleanup';

export interface PlanInput {
  readonly task: TaskState;
  readonly now: number;
  readonly cleanupWaitMs: number;
  /** Containers whose real state must be read from Docker before anything else is done to them. */
  readonly refresh: ReadonlySet<string>;
  /** Containers (or CLEANUP_KEY) waiting out a retry backoff, with when they may be tried again. */
  readonly retryAt: ReadonlyMap<string, number>;
}

export interface Plan {
  readonly actions: readonly Action[];
  /** When the task next needs attention even if nothing happens (a backoff ends, cleanup is due). */
  readonly wakeAt?: number;
}

export function plan(input: PlanInput): Plan {
  const { task, now } = input;
  const actions: Action[] = [];
  let wakeAt: number | undefined;
  const wakeNoLaterThan = (at: number): void => {
    wakeAt = wakeAt === undefined ? at : Math.min(wakeAt, at);
  };

  if (isTaskDone(task)) {
    const due = Math.max((task.stoppedAt ?? now) + input.cleanupWaitMs, input.retryAt.get(CLEANUP_KEY) ?? 0);
    if (due > now) return { actions, wakeAt: due };
    // By name when no ID was saved: a create whose answer was lost may still have made the container.
    const targets = task.containers.map((c) => ({ container: c.definition.name, ref: c.dockerId ?? c.dockerName }));
    return { actions: [{ kind: 'cleanup', targets }] };
  }

  for (const c of task.containers) {
    const name = c.definition.name;
    const retryAt = input.retryAt.get(name);
    if (retryAt !== undefined && retryAt > now) {
      wakeNoLaterThan(retryAt);
      continue;
    }
    const action = input.refresh.has(name) ? inspectAction(c) : nextAction(c);
    if (action) actions.push(action);
  }
  return wakeAt === undefined ? { actions } : { actions, wakeAt };
}

function inspectAction(c: ContainerState): Action | undefined {
  if (c.knownStatus === 'STOPPED') return undefined;
  const ref = c.dockerId ?? c.dockerName;
  return { kind: 'inspect', container: c.definition.name, ref };
}

/** One step toward the container's desired status. */
function nextAction(c: ContainerState): Action | undefined {
  const container = c.definition.name;
  if (c.desiredStatus === 'STOPPED') {
    switch (c.knownStatus) {
      case 'NONE':
      case 'PULLED':
        return { kind: 'abandon', container };
      case 'CREATED':
      case 'RUNNING':
        return { kind: 'stop', container, dockerId: requireId(c), timeoutSeconds: c.definition.stopTimeout };
      case 'STOPPED':
        return undefined;
    }
  }
  switch (c.knownStatus) {
    case 'NONE':
      return { kind: 'pull', container, image: c.definition.image };
    case 'PULLED':
      return { kind: 'create', container };
    case 'CREATED':
      return { kind: 'start', container, dockerId: requireId(c) };
    case 'RUNNING':
    case 'STOPPED':
      return undefined;
  }
}

/** A CREATED or RUNNING container always has its ID: it is saved in the same step that records the status. */
function requireId(c: ContainerState): string {
  if (!c.dockerId) throw new Error(`container ${c.definition.name} is ${c.knownStatus} but has no Docker ID`);
  return c.dockerId;
}

/** One line per action, for logs and for tests that compare plans as text. */
export function formatPlan(p: Plan): string {
  const lines = p.actions.map(formatAction);
  if (p.wakeAt !== undefined) lines.push(`wake at ${new Date(p.wakeAt).toISOString()}`);
  return lines.length === 0 ? '(nothing to do)' : lines.join('\n');
}

export function formatAction(a: Action): string {
  switch (a.kind) {
    case 'inspect':
      return `inspect ${a.container} (${a.ref})`;
    case 'pull':
      return `pull ${a.container} ${a.image}`;
    case 'create':
      return `create ${a.container}`;
    case 'start':
      return `start ${a.container} ${a.dockerId.slice(0, 12)}`;
    case 'stop':
      return `stop ${a.container} ${a.dockerId.slice(0, 12)} timeout=${a.timeoutSeconds}s`;
    case 'abandon':
      return `abandon ${a.container}`;
    case 'cleanup':
      return `cleanup ${a.targets.map((t) => (/^[0-9a-f]{64}$/.test(t.ref) ? t.ref.slice(0, 12) : t.ref)).join(' ')}`;
  }
}

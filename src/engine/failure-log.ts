import type { TaskState } from '../api/task.js';
import type { ActionKind } from './actions.js';
import { NO_FAILURES, type RetryCount } from './retry-policy.js';

interface Failure {
  readonly count: RetryCount;
  /** When the failed action may be tried again (epoch ms). */
  readonly at: number;
}

/**
 * How often each action of each container (or the task's cleanup) has failed, and when it may be
 * tried again. An action's record is cleared only by that action succeeding or by the container
 * moving to another status: reading a container back after a failure says nothing about whether
 * the failed action will work next time.
 */
export class FailureLog {
  private readonly byTarget = new Map<string, Map<ActionKind, Failure>>();

  count(target: string, action: ActionKind): RetryCount {
    return this.byTarget.get(target)?.get(action)?.count ?? NO_FAILURES;
  }

  record(target: string, action: ActionKind, failure: Failure): void {
    let actions = this.byTarget.get(target);
    if (!actions) this.byTarget.set(target, (actions = new Map()));
    actions.set(action, failure);
  }

  forget(target: string, action: ActionKind): void {
    const actions = this.byTarget.get(target);
    if (!actions?.delete(action) || actions.size > 0) return;
    this.byTarget.delete(target);
  }

  /** A container whose known status moved has got past whatever failed before. */
  forgetMoved(before: TaskState | undefined, after: TaskState | undefined): void {
    if (!before || !after) return;
    for (const c of after.containers) {
      const was = before.containers.find((p) => p.definition.name === c.definition.name);
      if (was && was.knownStatus !== c.knownStatus) this.byTarget.delete(c.definition.name);
    }
  }

  /** Per target, the latest time any of its failed actions may be tried again. */
  retryAt(): ReadonlyMap<string, number> {
    const at = new Map<string, number>();
    for (const [target, actions] of this.byTarget) {
      at.set(target, Math.max(...[...actions.values()].map((f) => f.at)));
    }
    return at;
  }
}

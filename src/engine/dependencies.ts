import { reason, type Reason } from '../api/reasons.js';
import { containerEdges, taskEdges, type Edge } from '../api/dependency-edges.js';
import type { ContainerState, TaskState } from '../api/task.js';

/*
 * Pure rules of container ordering, after the ECS agent's dependency graph: whether a container's
 * edges (src/api/dependency-edges.ts) are met, must be waited for, or can never be met. The same
 * edges, reversed, order the shutdown.
 */

export type Verdict =
  | { readonly kind: 'met' }
  /** Not yet; `until` is when a startTimeout will decide it if nothing else does. */
  | { readonly kind: 'wait'; readonly until?: number }
  /** Can never be met: the container is stopped without being created. */
  | { readonly kind: 'failed'; readonly reason: Reason };

/** Every edge of container `c` in `task`. */
export function edgesOf(task: Pick<TaskState, 'containers' | 'settings'>, c: ContainerState): Edge[] {
  return containerEdges(ordering(task), c.definition);
}

/** The names of the containers that depend on `name` in any way: they stop before it does. */
export function dependentsOf(task: Pick<TaskState, 'containers' | 'settings'>, name: string): string[] {
  return [...new Set(taskEdges(ordering(task)).filter((e) => e.on === name).map((e) => e.from))];
}

function ordering(task: Pick<TaskState, 'containers' | 'settings'>) {
  return { containers: task.containers.map((c) => c.definition), pidMode: task.settings.pidMode, ipcMode: task.settings.ipcMode };
}

/** Whether every edge of `c` is met now, must still be waited for, or can never be met. */
export function dependencyVerdict(task: TaskState, c: ContainerState, now: number): Verdict {
  let until: number | undefined;
  let waiting = false;
  for (const edge of edgesOf(task, c)) {
    const dep = task.containers.find((x) => x.definition.name === edge.on);
    // Refused at POST; a definition saved by an older build is not trusted blindly either.
    if (!dep) return failed(c, edge, `it does not exist in the task`);
    const v = edgeVerdict(c, edge, dep, now);
    if (v.kind === 'failed') return v;
    if (v.kind === 'wait') {
      waiting = true;
      if (v.until !== undefined) until = until === undefined ? v.until : Math.min(until, v.until);
    }
  }
  if (!waiting) return { kind: 'met' };
  return until === undefined ? { kind: 'wait' } : { kind: 'wait', until };
}

function edgeVerdict(c: ContainerState, edge: Edge, dep: ContainerState, now: number): Verdict {
  const started = dep.startedAt !== undefined || dep.knownStatus === 'RUNNING';
  const stopped = dep.knownStatus === 'STOPPED';
  const why = dep.reason ? `: ${dep.reason.message}` : '';
  const verdict = ((): Verdict => {
    switch (edge.condition) {
      case 'CREATE':
        if (dep.dockerId !== undefined && (dep.knownStatus === 'CREATED' || dep.knownStatus === 'RUNNING' || stopped)) return { kind: 'met' };
        return stopped ? failed(c, edge, `it stopped without being created${why}`) : { kind: 'wait' };
      case 'START':
        if (started) return { kind: 'met' };
        return stopped ? failed(c, edge, `it stopped without starting${why}`) : { kind: 'wait' };
      case 'COMPLETE':
        if (stopped) return started ? { kind: 'met' } : failed(c, edge, `it stopped without running${why}`);
        return { kind: 'wait' };
      case 'SUCCESS':
        if (!stopped) return { kind: 'wait' };
        if (dep.exitCode === 0) return { kind: 'met' };
        return failed(c, edge, dep.exitCode === undefined ? `it stopped without an exit code${why}` : `it exited with code ${dep.exitCode}`);
      case 'HEALTHY':
        if (dep.health === 'HEALTHY') return { kind: 'met' };
        return stopped ? failed(c, edge, `it stopped before it became healthy${why}`) : { kind: 'wait' };
    }
  })();
  if (verdict.kind !== 'wait') return verdict;
  // ECS: startTimeout is set on the dependency and counts from when it started.
  const timeout = dep.definition.startTimeout;
  if (timeout === undefined || dep.startedAt === undefined) return verdict;
  const deadline = dep.startedAt + timeout * 1000;
  if (now >= deadline) {
    return {
      kind: 'failed',
      reason: reason(
        'DependencyTimeout',
        `container ${c.definition.name} gave up on ${edge.on}: it did not reach ${edge.condition} within its startTimeout of ${timeout} s`,
      ),
    };
  }
  return { kind: 'wait', until: deadline };
}

function failed(c: ContainerState, edge: Edge, what: string): Verdict {
  const via = edge.origin === 'dependsOn' ? `condition ${edge.condition}` : `${edge.origin} (needs ${edge.condition})`;
  return {
    kind: 'failed',
    reason: reason('DependencyFailed', `container ${c.definition.name} depends on ${edge.on} (${via}), which can no longer be met: ${what}`),
  };
}

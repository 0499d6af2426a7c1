import type { FieldIssue } from '../../errors.js';
import { linkTarget, taskEdges, type Edge } from '../dependency-edges.js';
import type { ContainerDefinition, TaskDefinition } from '../task.js';
import { formatPath } from './issues.js';

/**
 * The order rules between a task's containers (src/api/dependency-edges.ts): names that exist,
 * conditions that can be met, and no cycle, since no container in one could ever start.
 */

export function validateDependencies(task: Pick<TaskDefinition, 'containers' | 'pidMode' | 'ipcMode'>, containersKey: string): FieldIssue[] {
  const { containers } = task;
  const byName = new Map(containers.map((c) => [c.name, c]));
  const issues: FieldIssue[] = [];
  const at = (i: number, ...rest: PropertyKey[]): string => formatPath([containersKey, i, ...rest]);
  const unknown = (name: string): string => `no container named "${name}" in this task`;
  containers.forEach((c, i) => {
    c.dependsOn.forEach((d, j) => {
      const target = byName.get(d.containerName);
      if (!target) return issues.push({ path: at(i, 'dependsOn', j, 'containerName'), message: unknown(d.containerName) });
      if (target === c) return issues.push({ path: at(i, 'dependsOn', j, 'containerName'), message: 'a container cannot depend on itself' });
      if (d.condition === 'HEALTHY' && !target.healthCheck) {
        issues.push({ path: at(i, 'dependsOn', j, 'condition'), message: `HEALTHY needs a healthCheck on ${target.name}, which has none` });
      }
      if ((d.condition === 'COMPLETE' || d.condition === 'SUCCESS') && target.essential) {
        issues.push({
          path: at(i, 'dependsOn', j, 'condition'),
          message: `${d.condition} waits for ${target.name} to exit, but ${target.name} is essential and its exit stops the task; ECS requires such a dependency to be essential: false`,
        });
      }
      return undefined;
    });
    c.links.forEach((l, j) => {
      const target = linkTarget(l);
      if (!byName.has(target)) issues.push({ path: at(i, 'links', j), message: unknown(target) });
      else if (target === c.name) issues.push({ path: at(i, 'links', j), message: 'a container cannot link to itself' });
    });
    c.volumesFrom.forEach((v, j) => {
      if (!byName.has(v.sourceContainer)) issues.push({ path: at(i, 'volumesFrom', j, 'sourceContainer'), message: unknown(v.sourceContainer) });
      else if (v.sourceContainer === c.name) issues.push({ path: at(i, 'volumesFrom', j, 'sourceContainer'), message: 'a container cannot mount its own volumes' });
    });
  });
  const index = new Map(containers.map((c, i) => [c.name, i]));
  for (const cycle of cycles(task)) {
    const first = cycle[0]!;
    const names = [...cycle.map((e) => e.from), first.from].join(' → ');
    const how = cycle.map((e) => `${e.from} ${describe(e)} ${e.on}`).join(', ');
    const path = first.origin === 'pidMode' || first.origin === 'ipcMode' ? first.origin : at(index.get(first.from)!, first.origin);
    issues.push({ path, message: `dependency cycle ${names} (${how}): none of them can start first` });
  }
  return issues;
}

function describe(edge: Edge): string {
  switch (edge.origin) {
    case 'dependsOn':
      return 'dependsOn';
    case 'links':
      return 'links to';
    case 'volumesFrom':
      return 'mounts volumes from';
    case 'environment':
      return 'uses template variables of';
    default:
      return `shares the ${edge.origin === 'pidMode' ? 'PID' : 'IPC'} namespace (${edge.origin}: task) of`;
  }
}

/** Each cycle once, as its edges, starting at the container defined first; edges to unknown or self are left to the checks above. */
function cycles(task: Pick<TaskDefinition, 'containers' | 'pidMode' | 'ipcMode'>): Edge[][] {
  const { containers } = task;
  const names = new Set(containers.map((c) => c.name));
  const out = new Map<string, Edge[]>();
  const edges = taskEdges(task).filter((e) => names.has(e.on) && e.on !== e.from);
  const from = (name: string): Edge[] => edges.filter((e) => e.from === name);
  const state = new Map<string, 'open' | 'done'>();
  const stack: Edge[] = [];
  const visit = (name: string): void => {
    state.set(name, 'open');
    for (const edge of from(name)) {
      if (state.get(edge.on) === 'open') {
        const start = stack.findIndex((e) => e.from === edge.on);
        const cycle = [...stack.slice(start === -1 ? stack.length : start), edge];
        const key = [...new Set(cycle.map((e) => e.from))].sort().join('\0');
        if (!out.has(key)) out.set(key, rotate(cycle, containers));
      } else if (state.get(edge.on) === undefined) {
        stack.push(edge);
        visit(edge.on);
        stack.pop();
      }
    }
    state.set(name, 'done');
  };
  for (const c of containers) if (state.get(c.name) === undefined) visit(c.name);
  return [...out.values()];
}

/** The same cycle, starting at whichever of its containers is defined first. */
function rotate(cycle: Edge[], containers: readonly ContainerDefinition[]): Edge[] {
  const order = new Map(containers.map((c, i) => [c.name, i]));
  let best = 0;
  cycle.forEach((e, i) => {
    if (order.get(e.from)! < order.get(cycle[best]!.from)!) best = i;
  });
  return [...cycle.slice(best), ...cycle.slice(0, best)];
}

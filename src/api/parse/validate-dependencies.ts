import type { FieldIssue } from '../../errors.js';
import type { ContainerDefinition } from '../task.js';
import { formatPath } from './issues.js';

/**
 * The order rules between a task's containers. `dependsOn` orders them explicitly; `links` and
 * `volumesFrom` do too, since Docker needs the other container to exist (and, for a link, to run)
 * first. A cycle through any of them means no container in it could ever start.
 */

export type EdgeKind = 'dependsOn' | 'links' | 'volumesFrom';

/** `from` cannot start before `to` has done what the edge asks. */
export interface DependencyEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
}

/** The container a link names: `name` or `name:alias`. */
export function linkTarget(link: string): string {
  return link.split(':')[0]!;
}

/** Every order a task's definition implies, in definition order. */
export function dependencyEdges(containers: readonly ContainerDefinition[]): DependencyEdge[] {
  return containers.flatMap((c) => [
    ...c.dependsOn.map((d) => ({ from: c.name, to: d.containerName, kind: 'dependsOn' as const })),
    ...c.links.map((l) => ({ from: c.name, to: linkTarget(l), kind: 'links' as const })),
    ...c.volumesFrom.map((v) => ({ from: c.name, to: v.sourceContainer, kind: 'volumesFrom' as const })),
  ]);
}

export function validateDependencies(containers: readonly ContainerDefinition[], containersKey: string): FieldIssue[] {
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
  for (const cycle of cycles(containers)) {
    const first = cycle[0]!;
    const names = [...cycle.map((e) => e.from), first.from].join(' → ');
    const how = cycle.map((e) => `${e.from} ${describe(e.kind)} ${e.to}`).join(', ');
    issues.push({ path: at(index.get(first.from)!, first.kind), message: `dependency cycle ${names} (${how}): none of them can start first` });
  }
  return issues;
}

function describe(kind: EdgeKind): string {
  return kind === 'dependsOn' ? 'dependsOn' : kind === 'links' ? 'links to' : 'mounts volumes from';
}

/** Each cycle once, as its edges, starting at the container defined first; edges to unknown or self are left to the checks above. */
function cycles(containers: readonly ContainerDefinition[]): DependencyEdge[][] {
  const names = new Set(containers.map((c) => c.name));
  const out = new Map<string, DependencyEdge[]>();
  const edges = dependencyEdges(containers).filter((e) => names.has(e.to) && e.to !== e.from);
  const from = (name: string): DependencyEdge[] => edges.filter((e) => e.from === name);
  const state = new Map<string, 'open' | 'done'>();
  const stack: DependencyEdge[] = [];
  const visit = (name: string): void => {
    state.set(name, 'open');
    for (const edge of from(name)) {
      if (state.get(edge.to) === 'open') {
        const start = stack.findIndex((e) => e.from === edge.to);
        const cycle = [...stack.slice(start === -1 ? stack.length : start), edge];
        const key = [...new Set(cycle.map((e) => e.from))].sort().join('\0');
        if (!out.has(key)) out.set(key, rotate(cycle, containers));
      } else if (state.get(edge.to) === undefined) {
        stack.push(edge);
        visit(edge.to);
        stack.pop();
      }
    }
    state.set(name, 'done');
  };
  for (const c of containers) if (state.get(c.name) === undefined) visit(c.name);
  return [...out.values()];
}

/** The same cycle, starting at whichever of its containers is defined first. */
function rotate(cycle: DependencyEdge[], containers: readonly ContainerDefinition[]): DependencyEdge[] {
  const order = new Map(containers.map((c, i) => [c.name, i]));
  let best = 0;
  cycle.forEach((e, i) => {
    if (order.get(e.from)! < order.get(cycle[best]!.from)!) best = i;
  });
  return [...cycle.slice(best), ...cycle.slice(0, best)];
}

import type { ContainerDefinition, DependencyCondition, TaskDefinition } from './task.js';
import { templateSiblings } from './template-variables.js';

/*
 * The one rule for which containers of a task must wait for which: validation refuses a cycle
 * through these edges at POST, the planner gates creation on them and runs the shutdown along
 * them backwards. A container's edges come from its `dependsOn`, and from what Docker itself needs
 * first: a linked container must run, a `volumesFrom` source must exist, and the owner of a
 * task-shared PID or IPC namespace must run. A container whose environment uses template variables
 * of another (src/api/template-variables.ts) waits for it to start, so that its addresses are known.
 */

/** `CREATE` is not an ECS condition: the other container exists in Docker (what `volumesFrom` needs). */
export type EdgeCondition = DependencyCondition | 'CREATE';
export type EdgeOrigin = 'dependsOn' | 'links' | 'volumesFrom' | 'pidMode' | 'ipcMode' | 'environment';

/** `from` waits for `on` to meet `condition`. */
export interface Edge {
  readonly from: string;
  readonly on: string;
  readonly condition: EdgeCondition;
  readonly origin: EdgeOrigin;
}

type Ordering = Pick<TaskDefinition, 'pidMode' | 'ipcMode'> & { readonly containers: readonly ContainerDefinition[] };

/** The container a link names: `name` or `name:alias`. */
export function linkTarget(link: string): string {
  return link.split(':')[0]!;
}

/**
 * The owner of the task's shared PID/IPC namespace: its first container. A documented choice (no
 * hidden pause container): the others join it with `container:<id>`.
 */
export function namespaceOwner(containers: readonly ContainerDefinition[]): string | undefined {
  return containers[0]?.name;
}

/** Every edge of container `c`, explicit ones first. */
export function containerEdges(task: Ordering, c: ContainerDefinition): Edge[] {
  const edges: Edge[] = [
    ...c.dependsOn.map((d) => ({ from: c.name, on: d.containerName, condition: d.condition, origin: 'dependsOn' as const })),
    ...c.links.map((l) => ({ from: c.name, on: linkTarget(l), condition: 'START' as const, origin: 'links' as const })),
    ...c.volumesFrom.map((v) => ({ from: c.name, on: v.sourceContainer, condition: 'CREATE' as const, origin: 'volumesFrom' as const })),
    // Only to containers that exist: a reference to any other is the template's own error, named by its variable.
    ...templateSiblings(c)
      .filter((name) => task.containers.some((x) => x.name === name))
      .map((name) => ({ from: c.name, on: name, condition: 'START' as const, origin: 'environment' as const })),
  ];
  const owner = namespaceOwner(task.containers);
  if (owner !== undefined && owner !== c.name) {
    if (task.pidMode === 'task') edges.push({ from: c.name, on: owner, condition: 'START', origin: 'pidMode' });
    if (task.ipcMode === 'task') edges.push({ from: c.name, on: owner, condition: 'START', origin: 'ipcMode' });
  }
  return edges;
}

/** Every edge of the task, in definition order. */
export function taskEdges(task: Ordering): Edge[] {
  return task.containers.flatMap((c) => containerEdges(task, c));
}

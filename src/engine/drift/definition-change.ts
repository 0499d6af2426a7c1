import { isDeepStrictEqual } from 'node:util';
import { containerEdges } from '../../api/dependency-edges.js';
import { generationOf, taskSettings, type ContainerDefinition, type ContainerState, type TaskDefinition, type TaskState } from '../../api/task.js';
import { definitionHash, hashInputV1 } from './definition-hash.js';

/*
 * The one rule for what a new definition of a task changes, container by container: used by the
 * engine when it accepts the definition (nextGeneration) and by `POST /v1/tasks/plan`, which only
 * shows it. Pure.
 */

/** One field the hash covers whose value differs: its path in the hash input, and both values (absent: not set). */
export interface FieldDiff {
  readonly path: string;
  readonly old?: unknown;
  readonly new?: unknown;
}

export type ContainerChange =
  /** A name the task did not have (or no task yet): made new. */
  | { readonly name: string; readonly action: 'create' }
  /** The old instance is stopped and removed, and a new one made: `diff` says what changed, `because` why when nothing in it did. */
  | { readonly name: string; readonly action: 'recreate'; readonly diff: readonly FieldDiff[]; readonly because?: string }
  /** Its Docker container stays as it is (same ID). */
  | { readonly name: string; readonly action: 'keep' }
  /** A name the new definition drops: stopped and removed. */
  | { readonly name: string; readonly action: 'stop' };

export interface DefinitionChange {
  readonly arn: string;
  /** The generation the task has now (0: no such task), and the one it would have with this definition. */
  readonly currentGeneration: number;
  readonly generation: number;
  /** New containers first in definition order, then the dropped ones. */
  readonly containers: readonly ContainerChange[];
}

/** Whether `next` is exactly the definition the task has: then it is no new generation, only (maybe) a higher desired status. */
export function isSameDefinition(current: TaskState, next: TaskDefinition): boolean {
  return (
    current.family === next.family &&
    current.version === next.version &&
    isDeepStrictEqual(current.settings, taskSettings(next)) &&
    isDeepStrictEqual(
      current.containers.map((c) => c.definition),
      next.containers,
    )
  );
}

/**
 * What accepting `next` would do to each container of `current`. A container is kept when its
 * hash is unchanged, its instance is still wanted running, and nothing it refers to in Docker (a
 * link, a volumesFrom source, the owner of a shared namespace) is recreated; else it is recreated.
 */
export function planDefinitionChange(current: TaskState | undefined, next: TaskDefinition): DefinitionChange {
  const currentGeneration = current ? generationOf(current) : 0;
  if (!current) {
    return { arn: next.arn, currentGeneration, generation: 1, containers: next.containers.map((d) => ({ name: d.name, action: 'create' })) };
  }
  const same = isSameDefinition(current, next);
  const oldSettings = current.settings;
  const newSettings = taskSettings(next);
  const changes = new Map<string, ContainerChange>();
  for (const d of next.containers) {
    const old = current.containers.find((c) => c.definition.name === d.name);
    if (!old) {
      changes.set(d.name, { name: d.name, action: 'create' });
      continue;
    }
    // The hashes are remembered per definition: the field-by-field diff is walked only for a change.
    const changed = definitionHash(old.definition, oldSettings) !== definitionHash(d, newSettings);
    const diff = changed ? diffFields(hashInputV1(old.definition, oldSettings), hashInputV1(d, newSettings)) : [];
    if (diff.length > 0) changes.set(d.name, { name: d.name, action: 'recreate', diff });
    else if (!same && !stillWanted(old)) changes.set(d.name, { name: d.name, action: 'recreate', diff, because: `its container is ${old.knownStatus === 'STOPPED' ? 'stopped' : 'stopping'}` });
    else changes.set(d.name, { name: d.name, action: 'keep' });
  }
  // A kept container whose link, volumesFrom source or namespace owner is made anew would point at
  // a removed container: it is made anew too, until nothing more changes.
  for (let moved = true; moved; ) {
    moved = false;
    for (const d of next.containers) {
      if (changes.get(d.name)?.action !== 'keep') continue;
      const edge = containerEdges(next, d).find(
        (e) => (e.origin === 'links' || e.origin === 'volumesFrom' || e.origin === 'pidMode' || e.origin === 'ipcMode') && changes.get(e.on)?.action !== 'keep',
      );
      if (edge) {
        changes.set(d.name, { name: d.name, action: 'recreate', diff: [], because: `${edge.on}, which it refers to by ${edge.origin}, is made anew` });
        moved = true;
      }
    }
  }
  const dropped = current.containers.filter((c) => !next.containers.some((d) => d.name === c.definition.name));
  return {
    arn: next.arn,
    currentGeneration,
    generation: same ? currentGeneration : currentGeneration + 1,
    containers: [...changes.values(), ...dropped.map((c): ContainerChange => ({ name: c.definition.name, action: 'stop' }))],
  };
}

/** A container instance that can carry on into the next generation: not stopped, nor asked to stop. */
function stillWanted(c: ContainerState): boolean {
  return c.knownStatus !== 'STOPPED' && c.desiredStatus === 'RUNNING';
}

/** The hash label a container made from `d` in `task` carries. */
export function containerHash(task: Pick<TaskState, 'settings'>, d: ContainerDefinition): string {
  return definitionHash(d, task.settings);
}

/** Every leaf that differs between two hash inputs, by path (`container.environment.MODE`, `container.portMappings[0].hostPort`). */
export function diffFields(a: unknown, b: unknown, path = ''): FieldDiff[] {
  if (isDeepStrictEqual(a, b)) return [];
  const bothObjects = isPlainObject(a) && isPlainObject(b);
  const bothArrays = Array.isArray(a) && Array.isArray(b);
  if (!bothObjects && !bothArrays) return [leaf(path, a, b)];
  if (bothArrays) {
    const out: FieldDiff[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...diffFields(a[i], b[i], `${path}[${i}]`));
    return out;
  }
  const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
  return keys.flatMap((k) => diffFields((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`));
}

function leaf(path: string, a: unknown, b: unknown): FieldDiff {
  return { path, ...(a === undefined ? {} : { old: a }), ...(b === undefined ? {} : { new: b }) };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

import { createHash } from 'node:crypto';
import { CONTAINER_DEFAULTS, HEALTH_CHECK_DEFAULTS, PORT_MAPPING_DEFAULTS, type ContainerDefinition, type TaskSettings } from '../../api/task.js';

/*
 * The definition hash: what a container was made from, as one label value (`v1:<sha256 hex>`),
 * so that a new definition recreates only the containers it changes and adoption never takes a
 * stale container for a new one. Its input (hashInput) is the container's definition with every
 * default filled in and the fields that do not reach the Docker container left out, plus the
 * task-level settings that do; keys are sorted, so field order never matters.
 *
 * Left out (they change what the agent does, not the container Docker runs):
 * - `essential`: whether the task stops when the container exits;
 * - `startTimeout`: how long its dependents wait for it;
 * - `restartPolicy`: the agent restarts the same container in place;
 * - `imagePullBehavior`: how the image is made available, not which image;
 * - `portMappings[].name`: a name for views and templates only.
 * Of the task: the network mode, the PID and IPC modes, and the definitions of the volumes the
 * container mounts; not the family, revision, CPU or memory of the task, nor other volumes.
 *
 * Versioned: changing what is hashed makes a new version, and the old function stays in HASHERS,
 * so a container labelled by an older build is compared under its own version (labelMatches):
 * changing the hashing code never recreates a container by itself.
 */

export const DEFINITION_HASH_VERSION = 'v1';

/** What a container is made of beyond its own definition. */
export type HashedSettings = Pick<TaskSettings, 'networkMode' | 'pidMode' | 'ipcMode' | 'volumes'>;

type Hasher = (d: ContainerDefinition, settings: HashedSettings) => string;

/** Every version ever shipped, by name. Never change one in place: add the next. */
export const HASHERS: Readonly<Record<string, Hasher>> = {
  v1: (d, settings) => sha256(canonicalJson(hashInputV1(d, settings))),
};

/**
 * Hashes of the shipped versions, per definition and settings object: both are immutable values
 * the state keeps by reference, and every inspect of a container compares its label.
 */
const remembered = new WeakMap<ContainerDefinition, WeakMap<HashedSettings, Map<string, string>>>();

function hashOf(version: string, hasher: Hasher, hashers: Readonly<Record<string, Hasher>>, d: ContainerDefinition, settings: HashedSettings): string {
  if (hashers !== HASHERS) return hasher(d, settings);
  let bySettings = remembered.get(d);
  if (!bySettings) remembered.set(d, (bySettings = new WeakMap()));
  let byVersion = bySettings.get(settings);
  if (!byVersion) bySettings.set(settings, (byVersion = new Map()));
  let hash = byVersion.get(version);
  if (hash === undefined) byVersion.set(version, (hash = hasher(d, settings)));
  return hash;
}

/** The label value for a container made from `d` in a task with `settings`, under the current version. */
export function definitionHash(d: ContainerDefinition, settings: HashedSettings, hashers: Readonly<Record<string, Hasher>> = HASHERS, version = DEFINITION_HASH_VERSION): string {
  const hasher = hashers[version];
  if (!hasher) throw new Error(`unknown definition hash version ${version}`);
  return `${version}:${hashOf(version, hasher, hashers, d, settings)}`;
}

/**
 * Whether a container's label says it was made from `d` (with `settings`): the label is
 * recomputed under its own version. A version this build does not know never matches.
 */
export function labelMatches(label: string, d: ContainerDefinition, settings: HashedSettings, hashers: Readonly<Record<string, Hasher>> = HASHERS): boolean {
  const colon = label.indexOf(':');
  if (colon <= 0) return false;
  const version = label.slice(0, colon);
  const hasher = hashers[version];
  return hasher !== undefined && `${version}:${hashOf(version, hasher, hashers, d, settings)}` === label;
}

/** The v1 input: what the hash covers, as a plain value (the plan's field-by-field diff walks it too). */
export function hashInputV1(d: ContainerDefinition, settings: HashedSettings): Record<string, unknown> {
  const {
    essential: _essential,
    startTimeout: _startTimeout,
    restartPolicy: _restartPolicy,
    imagePullBehavior: _imagePullBehavior,
    ...container
  } = { ...CONTAINER_DEFAULTS, ...d };
  const mounted = new Set(d.mountPoints.map((m) => m.sourceVolume));
  return {
    container: {
      ...container,
      portMappings: container.portMappings.map(({ name: _name, ...p }) => ({ ...PORT_MAPPING_DEFAULTS, ...p })),
      // The order of dependencies means nothing; the order of ports, mounts or a command does.
      dependsOn: [...container.dependsOn].sort((a, b) => a.containerName.localeCompare(b.containerName)),
      ...(container.healthCheck ? { healthCheck: { ...HEALTH_CHECK_DEFAULTS, ...container.healthCheck } } : {}),
    },
    task: {
      networkMode: settings.networkMode,
      pidMode: settings.pidMode,
      ipcMode: settings.ipcMode,
      volumes: settings.volumes.filter((v) => mounted.has(v.name)).sort((a, b) => a.name.localeCompare(b.name)),
    },
  };
}

/**
 * JSON with every object's keys sorted and undefined-valued keys dropped: one text per value. The
 * order is the one v1 has always had (it built sorted objects and stringified them): array-index
 * keys ("0", "7", "10") first in numeric order, as JavaScript enumerates them, then the others by
 * code unit. Written directly, without building the sorted copies, as every new definition is hashed.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort(keyOrder);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

function keyOrder(a: string, b: string): number {
  const ai = isArrayIndex(a);
  const bi = isArrayIndex(b);
  if (ai && bi) return Number(a) - Number(b);
  if (ai !== bi) return ai ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function isArrayIndex(key: string): boolean {
  return /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

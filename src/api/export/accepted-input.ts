import { isDeepStrictEqual } from 'node:util';
import { DEFAULT_PARSE_OPTIONS, parseTaskInput } from '../parse/parse-task-input.js';
import { INT32_MAX } from '../parse/fields.js';
import {
  CONTAINER_DEFAULTS,
  DOCKER_VOLUME_DEFAULTS,
  PORT_MAPPING_DEFAULTS,
  TASK_DEFAULTS,
  type ContainerDefinition,
  type PortMapping,
  type TaskDefinition,
  type TaskState,
  type VolumeDefinition,
} from '../task.js';

/**
 * The way back from the model to what the parser accepts (README "Export and restore"): a saved
 * definition written as input such that parseTaskInput gives back exactly that definition. The
 * short form is used when it can say everything (it is what most people write, and reads best);
 * otherwise the ECS form, which can say everything the model holds but a version that is not a
 * revision number — and only the short form accepts such versions, so every accepted task has a way back.
 */

type Body = Record<string, unknown>;

/** The definition a saved task was accepted with, its desired status as it now is. */
export function definitionOf(task: TaskState): TaskDefinition {
  return {
    arn: task.arn,
    family: task.family,
    version: task.version,
    desiredStatus: task.desiredStatus,
    containers: task.containers.map((c) => c.definition),
    ...task.settings,
  };
}

/** Privileged containers were allowed when the task was accepted; restoring must not refuse them. */
const CHECK = { ...DEFAULT_PARSE_OPTIONS, allowPrivileged: true };

/**
 * `def` as input. Throws when the written input would not parse back to `def` exactly: an export
 * must never hand out a document that restores a different task than the one saved.
 */
export function acceptedInput(def: TaskDefinition): Body {
  const body = fitsShortForm(def) ? shortForm(def) : ecsForm(def);
  let back: unknown;
  try {
    const parsed = parseTaskInput(body, CHECK);
    back = parsed.kind === 'definition' ? parsed.task : undefined;
  } catch (error) {
    throw new Error(`task ${def.arn} cannot be written back as input: ${(error as Error).message}`, { cause: error });
  }
  if (!isDeepStrictEqual(back, def)) throw new Error(`task ${def.arn} cannot be written back as input: it would parse to a different definition`);
  return body;
}

/** The fields of the short form's containers (short-schema.ts); every other field must be at its default. */
const SHORT_CONTAINER_FIELDS: ReadonlySet<string> = new Set([
  'name', 'image', 'command', 'entryPoint', 'environment', 'essential', 'labels', 'stopTimeout', 'portMappings', 'imagePullBehavior',
]);

function fitsShortForm(def: TaskDefinition): boolean {
  const { arn: _a, family: _f, version: _v, desiredStatus: _d, containers, ...settings } = def;
  return (
    isDeepStrictEqual(settings, { networkMode: TASK_DEFAULTS.networkMode, volumes: TASK_DEFAULTS.volumes }) &&
    containers.every((c) =>
      Object.entries(nonDefault(c)).every(([key]) => SHORT_CONTAINER_FIELDS.has(key)) && c.portMappings.every((m) => m.name === undefined),
    )
  );
}

function shortForm(def: TaskDefinition): Body {
  return {
    arn: def.arn,
    family: def.family,
    version: def.version,
    desiredStatus: def.desiredStatus,
    containers: def.containers.map((c) => {
      const { portMappings, ...rest } = nonDefault(c);
      return { ...rest, ...(portMappings ? { portMappings: (portMappings as PortMapping[]).map(portMapping) } : {}) };
    }),
  };
}

function ecsForm(def: TaskDefinition): Body {
  if (!/^[1-9]\d*$/.test(def.version) || Number(def.version) > INT32_MAX) {
    throw new Error(`task ${def.arn} cannot be written back as input: version ${JSON.stringify(def.version)} is not an ECS revision and the task uses fields only the ECS form has`);
  }
  return {
    arn: def.arn,
    family: def.family,
    revision: Number(def.version),
    desiredStatus: def.desiredStatus,
    ...(def.networkMode === TASK_DEFAULTS.networkMode ? {} : { networkMode: def.networkMode }),
    ...(def.pidMode === undefined ? {} : { pidMode: def.pidMode }),
    ...(def.ipcMode === undefined ? {} : { ipcMode: def.ipcMode }),
    ...(def.volumes.length === 0 ? {} : { volumes: def.volumes.map(volume) }),
    ...(def.cpu === undefined ? {} : { cpu: def.cpu }),
    ...(def.memory === undefined ? {} : { memory: def.memory }),
    containerDefinitions: def.containers.map(ecsContainer),
  };
}

/** The fields that differ from the model's defaults: those are all a document needs to say. */
function nonDefault(c: ContainerDefinition): Body {
  const defaults: Body = CONTAINER_DEFAULTS;
  return Object.fromEntries(Object.entries(c).filter(([key, value]) => !(key in defaults) || !isDeepStrictEqual(value, defaults[key])));
}

/** ECS's names and shapes for the fields the model normalised (normalize.ts, read backwards). */
function ecsContainer(c: ContainerDefinition): Body {
  const out: Body = {};
  for (const [key, value] of Object.entries(nonDefault(c))) {
    switch (key) {
      case 'environment':
        out.environment = Object.entries(value as Record<string, string>).map(([name, v]) => ({ name, value: v }));
        break;
      case 'labels':
        out.dockerLabels = value;
        break;
      case 'systemControls':
        out.systemControls = Object.entries(value as Record<string, string>).map(([namespace, v]) => ({ namespace, value: v }));
        break;
      case 'portMappings':
        out.portMappings = (value as PortMapping[]).map(portMapping);
        break;
      case 'restartPolicy':
        out.restartPolicy = { enabled: true, ...(value as object) };
        break;
      default:
        out[key] = value;
    }
  }
  return out;
}

function portMapping(m: PortMapping): Body {
  return {
    containerPort: m.containerPort,
    ...(m.hostPort === undefined ? {} : { hostPort: m.hostPort }),
    ...(m.protocol === PORT_MAPPING_DEFAULTS.protocol ? {} : { protocol: m.protocol }),
    ...(m.hostIp === PORT_MAPPING_DEFAULTS.hostIp ? {} : { hostIp: m.hostIp }),
    ...(m.name === undefined ? {} : { name: m.name }),
  };
}

function volume(v: VolumeDefinition): Body {
  if (v.kind === 'bind') return { name: v.name, host: { sourcePath: v.sourcePath } };
  const { name, kind, autoprovision, driver, driverOpts, labels } = v;
  if (isDeepStrictEqual({ kind, autoprovision, driver, driverOpts, labels }, DOCKER_VOLUME_DEFAULTS)) return { name };
  return {
    name,
    dockerVolumeConfiguration: {
      scope: kind,
      // Only a shared volume may be provisioned on demand; the parser refuses the field on a task volume.
      ...(kind === 'shared' ? { autoprovision } : {}),
      ...(driver === DOCKER_VOLUME_DEFAULTS.driver ? {} : { driver }),
      ...(Object.keys(driverOpts).length === 0 ? {} : { driverOpts }),
      ...(Object.keys(labels).length === 0 ? {} : { labels }),
    },
  };
}

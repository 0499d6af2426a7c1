import type { FieldIssue } from '../../errors.js';
import {
  CONTAINER_DEFAULTS,
  containerDefinition,
  DOCKER_VOLUME_DEFAULTS,
  HEALTH_CHECK_DEFAULTS,
  PORT_MAPPING_DEFAULTS,
  TASK_DEFAULTS,
  type ContainerDefinition,
  type LinuxParameters,
  type NetworkMode,
  type PortMapping,
  type TaskDefinition,
  type VolumeDefinition,
} from '../task.js';
import type { EcsContainer } from './ecs-container-schema.js';
import { ignoredFields } from './ecs-object.js';
import type { EcsTask } from './ecs-schema.js';
import { DEFAULT_REVISION } from './fields.js';
import { formatPath } from './issues.js';
import { IGNORED } from './refusals.js';
import type { ShortTask } from './short-schema.js';

/**
 * The one place either input form becomes the internal model: every default filled in (from
 * task.ts), ECS's lists turned into records, and what has no effect here left out, so the same
 * definition always gives the same value, field for field.
 */

type Path = readonly PropertyKey[];

export function fromShortForm(task: ShortTask): TaskDefinition {
  const { containers, ...rest } = task;
  return { ...TASK_DEFAULTS, ...rest, containers: containers.map(containerDefinition) };
}

export function fromEcsForm(task: EcsTask): { task: TaskDefinition; warnings: FieldIssue[] } {
  const warnings = ignoredFields('TaskDefinition', task, []);
  const networkMode: NetworkMode = task.networkMode ?? TASK_DEFAULTS.networkMode;
  const containers = task.containerDefinitions.map((c, i) => container(c, ['containerDefinitions', i], networkMode, warnings));
  return {
    task: {
      arn: task.arn,
      family: task.family,
      version: String(task.revision ?? DEFAULT_REVISION),
      desiredStatus: task.desiredStatus ?? TASK_DEFAULTS.desiredStatus,
      containers,
      networkMode,
      ...(task.pidMode === undefined ? {} : { pidMode: task.pidMode }),
      ...(task.ipcMode === undefined ? {} : { ipcMode: task.ipcMode }),
      volumes: (task.volumes ?? []).map(volume),
      ...(task.cpu === undefined ? {} : { cpu: task.cpu }),
      ...(task.memory === undefined ? {} : { memory: task.memory }),
    },
    warnings,
  };
}

function container(c: EcsContainer, path: Path, networkMode: NetworkMode, warnings: FieldIssue[]): ContainerDefinition {
  warnings.push(...ignoredFields('ContainerDefinition', c, path));
  c.portMappings?.forEach((m, j) => warnings.push(...ignoredFields('PortMapping', m, [...path, 'portMappings', j])));
  if (c.logConfiguration?.logDriver === 'awslogs') {
    warnings.push({ path: formatPath([...path, 'logConfiguration', 'logDriver']), message: IGNORED.awslogs });
  }
  const linux = linuxParameters(c.linuxParameters, [...path, 'linuxParameters'], warnings);
  return containerDefinition({
    name: c.name,
    image: c.image,
    ...given('command', c.command),
    ...given('entryPoint', c.entryPoint),
    ...given('environment', c.environment && Object.fromEntries(c.environment.map((e) => [e.name, e.value ?? '']))),
    ...given('essential', c.essential),
    ...given('labels', c.dockerLabels),
    ...given('stopTimeout', c.stopTimeout),
    ...given('startTimeout', c.startTimeout),
    ...given('portMappings', c.portMappings?.map((m) => portMapping(m, networkMode))),
    ...given('dependsOn', c.dependsOn),
    ...given('healthCheck', c.healthCheck && { ...HEALTH_CHECK_DEFAULTS, ...c.healthCheck }),
    // ECS's agent turns 0, 1 or no cpu into Docker's smallest share value.
    ...given('cpu', c.cpu !== undefined && c.cpu > CONTAINER_DEFAULTS.cpu ? c.cpu : undefined),
    ...given('memory', c.memory),
    ...given('memoryReservation', c.memoryReservation),
    ...given('ulimits', c.ulimits),
    ...given('user', c.user),
    ...given('workingDirectory', c.workingDirectory),
    ...given('interactive', c.interactive),
    ...given('pseudoTerminal', c.pseudoTerminal),
    ...given('readonlyRootFilesystem', c.readonlyRootFilesystem),
    ...given('privileged', c.privileged),
    ...given('dockerSecurityOptions', c.dockerSecurityOptions),
    ...given('systemControls', c.systemControls && Object.fromEntries(c.systemControls.map((s) => [s.namespace, s.value]))),
    ...given('links', c.links),
    ...given('hostname', c.hostname),
    ...given('dnsServers', c.dnsServers),
    ...given('dnsSearchDomains', c.dnsSearchDomains),
    ...given('extraHosts', c.extraHosts),
    ...given('disableNetworking', c.disableNetworking),
    ...given('mountPoints', c.mountPoints?.map((m) => ({ sourceVolume: m.sourceVolume, containerPath: m.containerPath, readOnly: m.readOnly ?? false }))),
    ...given('volumesFrom', c.volumesFrom?.map((v) => ({ sourceContainer: v.sourceContainer, readOnly: v.readOnly ?? false }))),
    ...given('linuxParameters', linux),
    ...given('imagePullBehavior', c.imagePullBehavior),
    ...given('logConfiguration', c.logConfiguration && { logDriver: c.logConfiguration.logDriver, options: c.logConfiguration.options ?? {} }),
  });
}

/** `hostPort` 0 or absent is a dynamic port; with host networking the port is the container's own. */
function portMapping(m: NonNullable<EcsContainer['portMappings']>[number], networkMode: NetworkMode): PortMapping {
  const hostPort = networkMode === 'host' ? m.containerPort : m.hostPort || undefined;
  return {
    containerPort: m.containerPort,
    ...given('hostPort', hostPort),
    protocol: m.protocol ?? PORT_MAPPING_DEFAULTS.protocol,
    hostIp: m.hostIp ?? PORT_MAPPING_DEFAULTS.hostIp,
    ...given('name', m.name),
  };
}

/** Only what changes Docker's defaults is kept: `linuxParameters: {}` and no linuxParameters are the same. */
function linuxParameters(p: EcsContainer['linuxParameters'], path: Path, warnings: FieldIssue[]): LinuxParameters | undefined {
  if (!p) return undefined;
  if (p.swappiness !== undefined && p.maxSwap === undefined) {
    warnings.push({ path: formatPath([...path, 'swappiness']), message: `accepted, no effect: ${IGNORED.swappiness}` });
  }
  const add = p.capabilities?.add ?? [];
  const drop = p.capabilities?.drop ?? [];
  const out: LinuxParameters = {
    ...given('initProcessEnabled', p.initProcessEnabled || undefined),
    ...given('sharedMemorySize', p.sharedMemorySize || undefined),
    ...given('tmpfs', p.tmpfs?.length ? p.tmpfs.map((t) => ({ containerPath: t.containerPath, size: t.size, mountOptions: t.mountOptions ?? [] })) : undefined),
    ...given('capabilities', add.length + drop.length > 0 ? { add, drop } : undefined),
    ...given('devices', p.devices?.length ? p.devices : undefined),
    ...given('maxSwap', p.maxSwap),
    ...given('swappiness', p.maxSwap === undefined ? undefined : p.swappiness),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}

function volume(v: NonNullable<EcsTask['volumes']>[number]): VolumeDefinition {
  if (v.host?.sourcePath !== undefined) return { name: v.name, kind: 'bind', sourcePath: v.host.sourcePath };
  const d = v.dockerVolumeConfiguration;
  const kind = d?.scope ?? DOCKER_VOLUME_DEFAULTS.kind;
  return {
    name: v.name,
    ...DOCKER_VOLUME_DEFAULTS,
    kind,
    autoprovision: kind === 'shared' ? (d?.autoprovision ?? DOCKER_VOLUME_DEFAULTS.autoprovision) : false,
    ...given('driver', d?.driver),
    ...given('driverOpts', d?.driverOpts),
    ...given('labels', d?.labels),
  };
}

/** `{key: value}` when the value was given, `{}` when not: optional fields stay absent. */
function given<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

import { berthLabels, dockerVolumeName, LABELS } from '../api/labels.js';
import { containerHash } from './drift/definition-change.js';
import type { ContainerDefinition, ContainerState, TaskState, VolumeDefinition } from '../api/task.js';
import type { ContainerSpec } from '../docker/docker-client.js';
import { linkTarget, namespaceOwner } from '../api/dependency-edges.js';
import { findContainer } from './task-state.js';
import { METADATA_FILE_ENV, type MetadataLocation } from './metadata/metadata-location.js';
import { resolveEnvironment } from './templates/resolve-templates.js';


/*
 * The one translation from the task model to Docker's terms. Pure: everything it needs about other
 * containers (their Docker IDs for links, volumesFrom and shared namespaces) is in the task state,
 * and the planner creates a container only after the ones it refers to exist.
 */

const MIB = 1024 * 1024;

/**
 * The Docker container a definition becomes: the user's labels plus berth's, which always win.
 * With `metadata` (--container-metadata), the container's metadata directory is mounted read-only
 * and ECS_CONTAINER_METADATA_FILE names the file in it, over any value the definition gives.
 */
export function containerSpec(task: TaskState, c: ContainerState, agentId: string, metadata?: MetadataLocation): ContainerSpec {
  const d = c.definition;
  const network = task.settings.networkMode;
  const lp = d.linuxParameters;
  return {
    name: c.dockerName,
    image: d.image,
    ...(d.command ? { command: d.command } : {}),
    ...(d.entryPoint ? { entryPoint: d.entryPoint } : {}),
    env: { ...environmentOf(task, c), ...(metadata ? { [METADATA_FILE_ENV]: metadata.containerFile } : {}) },
    labels: {
      ...d.labels,
      ...berthLabels({ taskArn: task.arn, family: task.family, version: task.version, containerName: d.name }, agentId),
      [LABELS.definitionHash]: containerHash(task, d),
    },
    // Docker ignores published ports without a network of the container's own (host, none).
    portMappings: network === 'bridge' ? d.portMappings : [],
    stopTimeout: d.stopTimeout,
    networkMode: network,
    ...(d.healthCheck
      ? {
          healthCheck: {
            test: d.healthCheck.command,
            intervalMs: d.healthCheck.interval * 1000,
            timeoutMs: d.healthCheck.timeout * 1000,
            retries: d.healthCheck.retries,
            startPeriodMs: d.healthCheck.startPeriod * 1000,
          },
        }
      : {}),
    ...optional('hostname', d.hostname),
    ...optional('user', d.user),
    ...optional('workingDir', d.workingDirectory),
    ...(d.pseudoTerminal ? { tty: true } : {}),
    ...(d.interactive ? { openStdin: true } : {}),
    ...(d.disableNetworking ? { networkDisabled: true } : {}),
    ...optional('pidMode', namespaceMode(task, c, 'pid', task.settings.pidMode)),
    ...optional('ipcMode', namespaceMode(task, c, 'ipc', task.settings.ipcMode)),
    ...nonEmpty('links', d.links.map((link) => dockerLink(task, link))),
    ...nonEmpty('mounts', [
      ...d.mountPoints.map((m) => mountOf(task, d, m, agentId)),
      ...(metadata ? [{ type: 'bind' as const, source: metadata.hostDir, target: metadata.containerDir, readOnly: true }] : []),
    ]),
    ...nonEmpty(
      'volumesFrom',
      d.volumesFrom.map((v) => ({ container: refOf(task, v.sourceContainer), readOnly: v.readOnly })),
    ),
    ...nonEmpty('dns', d.dnsServers),
    ...nonEmpty('dnsSearch', d.dnsSearchDomains),
    ...nonEmpty('extraHosts', d.extraHosts.map((h) => `${h.hostname}:${h.ipAddress}`)),
    cpuShares: d.cpu,
    ...optional('memoryBytes', d.memory === undefined ? undefined : d.memory * MIB),
    ...optional('memoryReservationBytes', d.memoryReservation === undefined ? undefined : d.memoryReservation * MIB),
    // ECS: maxSwap is swap on top of the memory limit; Docker's memory-swap is their sum, and needs a limit.
    ...optional('memorySwapBytes', lp?.maxSwap === undefined || d.memory === undefined ? undefined : (d.memory + lp.maxSwap) * MIB),
    ...optional('memorySwappiness', lp?.swappiness),
    ...nonEmpty('ulimits', d.ulimits.map((u) => ({ name: u.name, soft: u.softLimit, hard: u.hardLimit }))),
    ...(d.readonlyRootFilesystem ? { readonlyRootfs: true } : {}),
    ...(d.privileged ? { privileged: true } : {}),
    ...nonEmpty('securityOpt', d.dockerSecurityOptions),
    ...(Object.keys(d.systemControls).length > 0 ? { sysctls: d.systemControls } : {}),
    ...(lp?.initProcessEnabled ? { init: true } : {}),
    ...optional('shmSizeBytes', lp?.sharedMemorySize === undefined ? undefined : lp.sharedMemorySize * MIB),
    ...(lp?.tmpfs && lp.tmpfs.length > 0
      ? { tmpfs: Object.fromEntries(lp.tmpfs.map((t) => [t.containerPath, [`size=${t.size}m`, ...t.mountOptions].join(',')])) }
      : {}),
    ...nonEmpty('capAdd', lp?.capabilities?.add ?? []),
    ...nonEmpty('capDrop', lp?.capabilities?.drop ?? []),
    ...nonEmpty(
      'devices',
      (lp?.devices ?? []).map((dev) => ({
        hostPath: dev.hostPath,
        containerPath: dev.containerPath ?? dev.hostPath,
        permissions: (dev.permissions ?? ['read', 'write', 'mknod']).map((p) => p[0]).join(''),
      })),
    ),
    ...(d.logConfiguration ? { logConfig: logConfig(task, d) } : {}),
  };
}

/**
 * Docker's own log drivers take the options as given, except ECS's `awslogs-stream-prefix`, which
 * is the ECS agent's and Docker refuses: it names the stream `<prefix>/<container>/<task id>`.
 */
function logConfig(task: TaskState, d: ContainerDefinition): NonNullable<ContainerSpec['logConfig']> {
  const { logDriver, options } = d.logConfiguration!;
  const { 'awslogs-stream-prefix': prefix, ...rest } = options;
  if (logDriver !== 'awslogs' || prefix === undefined) return { type: logDriver, config: options };
  const taskId = task.arn.slice(task.arn.lastIndexOf('/') + 1);
  return { type: logDriver, config: { ...rest, 'awslogs-stream': rest['awslogs-stream'] ?? `${prefix}/${d.name}/${taskId}` } };
}

/** The environment with its template variables resolved; the planner creates the container only once they resolve. */
function environmentOf(task: TaskState, c: ContainerState): Readonly<Record<string, string>> {
  const env = resolveEnvironment(task, c);
  if (!env.ok) throw new Error(`container ${c.definition.name} cannot be created: ${env.message}`);
  return env.environment;
}

/** `task` mode: the owner keeps a namespace of its own (shareable, for IPC); the others join it. */
function namespaceMode(task: TaskState, c: ContainerState, kind: 'pid' | 'ipc', mode: 'host' | 'task' | 'none' | undefined): string | undefined {
  if (mode !== 'task') return mode;
  const owner = namespaceOwner(task.containers.map((x) => x.definition));
  if (owner === c.definition.name) return kind === 'ipc' ? 'shareable' : undefined;
  return `container:${refOf(task, owner!)}`;
}

/** ECS's `name` or `name:alias` becomes Docker's `<docker name>:<alias>`; the alias defaults to the name. */
function dockerLink(task: TaskState, link: string): string {
  const name = linkTarget(link);
  const alias = link.split(':')[1] ?? name;
  return `${findContainer(task, name)?.dockerName ?? name}:${alias}`;
}

/** Another container of the task, by its Docker ID once it has one. */
function refOf(task: TaskState, name: string): string {
  const other = findContainer(task, name);
  return other?.dockerId ?? other?.dockerName ?? name;
}

function mountOf(
  task: TaskState,
  d: ContainerDefinition,
  m: ContainerDefinition['mountPoints'][number],
  agentId: string,
): NonNullable<ContainerSpec['mounts']>[number] {
  const volume: VolumeDefinition | undefined = task.settings.volumes.find((v) => v.name === m.sourceVolume);
  if (!volume) throw new Error(`container ${d.name} mounts ${m.sourceVolume}, which the task does not declare`);
  if (volume.kind === 'bind') return { type: 'bind', source: volume.sourcePath, target: m.containerPath, readOnly: m.readOnly };
  return { type: 'volume', source: dockerVolumeName(task.arn, volume, agentId), target: m.containerPath, readOnly: m.readOnly };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function nonEmpty<K extends string, V>(key: K, values: readonly V[]): { [P in K]?: readonly V[] } {
  return (values.length === 0 ? {} : { [key]: values }) as { [P in K]?: readonly V[] };
}

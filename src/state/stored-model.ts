import type { Reason, ReasonCode } from '../api/reasons.js';
import {
  CONTAINER_DEFAULTS,
  DEPENDENCY_CONDITIONS,
  HEALTH_STATUSES,
  IMAGE_PULL_BEHAVIORS,
  NETWORK_MODES,
  TASK_DEFAULTS,
  type ContainerDefinition,
  type ContainerDependency,
  type Device,
  type ExtraHost,
  type HealthCheck,
  type LinuxParameters,
  type LogConfiguration,
  type MountPoint,
  type PortBinding,
  type PortMapping,
  type TaskSettings,
  type Tmpfs,
  type Ulimit,
  type VolumeDefinition,
  type VolumeFrom,
} from '../api/task.js';
import { array, boolean, nonEmptyText, number, object, oneOf, optional, record, text, variants, type Codec } from './codec.js';

/*
 * The shape of src/api/task.ts's model as the state layer stores it: what a saved definition must
 * look like to be loaded, checked structurally (see codec.ts). It is our own normalised output, so
 * its defaults are the model's own (CONTAINER_DEFAULTS, TASK_DEFAULTS) and no input bound is
 * repeated here: a stopTimeout of 99999 or an image the current parser would refuse still loads.
 *
 * A field added to ContainerDefinition (or any type below) fails to compile here until it is
 * declared: one line, its codec, wrapped in optional(...) when the field is optional. A default
 * for rows saved before the field existed comes from CONTAINER_DEFAULTS, so it is given there.
 */

const PROTOCOLS = ['tcp', 'udp'] as const;

export const portMapping = object<PortMapping>({
  containerPort: number,
  hostPort: optional(number),
  protocol: oneOf(PROTOCOLS),
  hostIp: text,
  name: optional(text),
});

export const portBinding = object<PortBinding>({
  containerPort: number,
  hostPort: number,
  protocol: oneOf(PROTOCOLS),
  hostIp: text,
});

const dependency = object<ContainerDependency>({ containerName: text, condition: oneOf(DEPENDENCY_CONDITIONS) });

const healthCheck = object<HealthCheck>({
  command: array(text),
  interval: number,
  timeout: number,
  retries: number,
  startPeriod: number,
});

const tmpfs = object<Tmpfs>({ containerPath: text, size: number, mountOptions: array(text) });

const device = object<Device>({
  hostPath: text,
  containerPath: optional(text),
  permissions: optional(array(oneOf(['read', 'write', 'mknod']))),
});

const linuxParameters = object<LinuxParameters>({
  initProcessEnabled: optional(boolean),
  sharedMemorySize: optional(number),
  tmpfs: optional(array(tmpfs)),
  capabilities: optional(object<NonNullable<LinuxParameters['capabilities']>>({ add: array(text), drop: array(text) })),
  devices: optional(array(device)),
  maxSwap: optional(number),
  swappiness: optional(number),
});

const logConfiguration = object<LogConfiguration>({ logDriver: text, options: record(text) });

export const containerDefinition: Codec<ContainerDefinition> = object<ContainerDefinition>(
  {
    name: nonEmptyText,
    image: text,
    command: optional(array(text)),
    entryPoint: optional(array(text)),
    environment: record(text),
    essential: boolean,
    labels: record(text),
    stopTimeout: number,
    startTimeout: optional(number),
    imagePullBehavior: optional(oneOf(IMAGE_PULL_BEHAVIORS)),
    portMappings: array(portMapping),
    dependsOn: array(dependency),
    healthCheck: optional(healthCheck),
    cpu: number,
    memory: optional(number),
    memoryReservation: optional(number),
    ulimits: array(object<Ulimit>({ name: text, softLimit: number, hardLimit: number })),
    user: optional(text),
    workingDirectory: optional(text),
    interactive: boolean,
    pseudoTerminal: boolean,
    readonlyRootFilesystem: boolean,
    privileged: boolean,
    dockerSecurityOptions: array(text),
    systemControls: record(text),
    links: array(text),
    hostname: optional(text),
    dnsServers: array(text),
    dnsSearchDomains: array(text),
    extraHosts: array(object<ExtraHost>({ hostname: text, ipAddress: text })),
    disableNetworking: boolean,
    mountPoints: array(object<MountPoint>({ sourceVolume: text, containerPath: text, readOnly: boolean })),
    volumesFrom: array(object<VolumeFrom>({ sourceContainer: text, readOnly: boolean })),
    linuxParameters: optional(linuxParameters),
    logConfiguration: optional(logConfiguration),
  },
  CONTAINER_DEFAULTS,
);

type BindVolume = Extract<VolumeDefinition, { kind: 'bind' }>;
type DockerVolume = Exclude<VolumeDefinition, BindVolume>;
const dockerVolume = object<DockerVolume>({
  name: text,
  kind: oneOf(['task', 'shared']),
  autoprovision: boolean,
  driver: text,
  driverOpts: record(text),
  labels: record(text),
});
const volume = variants<VolumeDefinition>('kind', {
  bind: object<BindVolume>({ name: text, kind: oneOf(['bind']), sourcePath: text }),
  task: dockerVolume,
  shared: dockerVolume,
});

/** What a task saved before task settings existed loads with: the model's defaults. */
export const SETTINGS_DEFAULTS: TaskSettings = { networkMode: TASK_DEFAULTS.networkMode, volumes: TASK_DEFAULTS.volumes };

export const taskSettings = object<TaskSettings>(
  {
    networkMode: oneOf(NETWORK_MODES),
    pidMode: optional(oneOf(['host', 'task'])),
    ipcMode: optional(oneOf(['host', 'task', 'none'])),
    volumes: array(volume),
    cpu: optional(number),
    memory: optional(number),
  },
  SETTINGS_DEFAULTS,
);

export const healthStatus = oneOf(HEALTH_STATUSES);

/*
 * Any string, not the current list: an older reader still loads (and shows) a reason a newer build
 * saved, and adding a reason never needs a table rebuild (001_init.sql keeps reason_code unCHECKed).
 */
export const reasonCode = text as Codec<ReasonCode>;

export const reason = object<Reason>({ code: reasonCode, message: text });

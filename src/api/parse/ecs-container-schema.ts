import { z } from 'zod';
import { DEPENDENCY_CONDITIONS, IMAGE_PULL_BEHAVIORS } from '../task.js';
import { ecsObject } from './ecs-object.js';
import {
  argList,
  containerName,
  containerPath,
  envName,
  envValue,
  hostPath,
  image,
  INT32_MAX,
  ipAddress,
  labels,
  MAX_ARG,
  memoryMiB,
  port,
  stringMap,
  wholeNumber,
} from './fields.js';
import { IGNORED, REFUSED } from './refusals.js';

/** ECS's ContainerDefinition and the types inside it, field by field. */

/** The kernel's largest CPU-shares value. */
const MAX_CPU_SHARES = 262_144;
const MAX_TIMEOUT_S = 3600;

const keyValue = ecsObject({
  name: 'KeyValuePair',
  supported: { name: envName, value: envValue.optional() },
  refused: { valueFrom: REFUSED.valueFrom },
});

const portMapping = ecsObject({
  name: 'PortMapping',
  supported: {
    containerPort: port,
    /** 0 or absent: a dynamic port. */
    hostPort: wholeNumber(0, 65535).optional(),
    protocol: z.enum(['tcp', 'udp']).optional(),
    name: z.string().regex(/^[a-z0-9_][a-z0-9_-]{0,63}$/, 'must be up to 64 lowercase letters, digits, _ and -, not starting with -').optional(),
    hostIp: ipAddress.optional(),
  },
  extensions: ['hostIp'],
  ignored: { appProtocol: IGNORED.appProtocol },
  refused: { containerPortRange: REFUSED.containerPortRange },
});

const mountPoint = ecsObject({
  name: 'MountPoint',
  supported: { sourceVolume: z.string().min(1), containerPath, readOnly: z.boolean().optional() },
});

const volumeFrom = ecsObject({
  name: 'VolumeFrom',
  supported: { sourceContainer: z.string().min(1), readOnly: z.boolean().optional() },
});

const dependency = ecsObject({
  name: 'ContainerDependency',
  supported: { containerName: z.string().min(1), condition: z.enum(DEPENDENCY_CONDITIONS) },
});

const healthCommand = z
  .array(z.string().max(MAX_ARG))
  .max(256)
  .superRefine((command, ctx) => {
    if (command[0] !== 'CMD' && command[0] !== 'CMD-SHELL') {
      const message = 'must start with "CMD" (run the arguments) or "CMD-SHELL" (run one string with the shell), as Docker takes it';
      ctx.addIssue({ code: 'custom', path: command.length > 0 ? [0] : [], message });
    } else if (command.slice(1).every((arg) => arg.trim() === '')) {
      ctx.addIssue({ code: 'custom', message: `names no command to run after "${command[0]}"` });
    }
  });

/** ECS's bounds; the defaults (30, 5, 3, 0) are filled in by the model. */
const healthCheck = ecsObject({
  name: 'HealthCheck',
  supported: {
    command: healthCommand,
    interval: wholeNumber(5, 300, 'seconds').optional(),
    timeout: wholeNumber(2, 60, 'seconds').optional(),
    retries: wholeNumber(1, 10).optional(),
    startPeriod: wholeNumber(0, 300, 'seconds').optional(),
  },
});

const ULIMIT_NAMES = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'] as const;
/** -1 is Docker's "unlimited". */
const limitValue = wholeNumber(-1, INT32_MAX);

const ulimit = ecsObject({
  name: 'Ulimit',
  supported: { name: z.enum(ULIMIT_NAMES), softLimit: limitValue, hardLimit: limitValue },
}).superRefine((u, ctx) => {
  if (u.hardLimit !== -1 && (u.softLimit === -1 || u.softLimit > u.hardLimit)) {
    ctx.addIssue({ code: 'custom', path: ['softLimit'], message: `must not be above hardLimit (${u.hardLimit})` });
  }
});

const hostnamePattern = /^(?=.{1,64}$)[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
const hostname = z.string().regex(hostnamePattern, 'must be a host name of up to 64 letters, digits, ".", "-" and "_"');

const hostEntry = ecsObject({
  name: 'HostEntry',
  supported: { hostname, ipAddress },
});

/** The kernel parameters Docker sets per container: the namespaced ones. */
const IPC_SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];
export const isIpcSysctl = (namespace: string): boolean => IPC_SYSCTLS.includes(namespace) || namespace.startsWith('fs.mqueue.');
export const isNetSysctl = (namespace: string): boolean => namespace.startsWith('net.');
/** The one UTS-namespace parameter runc sets (the host name has its own field). */
const UTS_SYSCTL = 'kernel.domainname';

const systemControl = ecsObject({
  name: 'SystemControl',
  supported: {
    namespace: z
      .string()
      .refine(
        (n) => isIpcSysctl(n) || isNetSysctl(n) || n === UTS_SYSCTL,
        `must be a namespaced kernel parameter, which is all Docker sets per container: net.*, fs.mqueue.*, ${UTS_SYSCTL} or one of ${IPC_SYSCTLS.join(', ')}`,
      ),
    value: z.string().min(1).max(4096),
  },
});

const CAPABILITIES = [
  'ALL', 'AUDIT_CONTROL', 'AUDIT_WRITE', 'BLOCK_SUSPEND', 'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID',
  'IPC_LOCK', 'IPC_OWNER', 'KILL', 'LEASE', 'LINUX_IMMUTABLE', 'MAC_ADMIN', 'MAC_OVERRIDE', 'MKNOD', 'NET_ADMIN',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_ADMIN', 'SYS_BOOT',
  'SYS_CHROOT', 'SYS_MODULE', 'SYS_NICE', 'SYS_PACCT', 'SYS_PTRACE', 'SYS_RAWIO', 'SYS_RESOURCE', 'SYS_TIME',
  'SYS_TTY_CONFIG', 'SYSLOG', 'WAKE_ALARM',
] as const;

const capabilities = ecsObject({
  name: 'KernelCapabilities',
  supported: { add: z.array(z.enum(CAPABILITIES)).optional(), drop: z.array(z.enum(CAPABILITIES)).optional() },
});

const device = ecsObject({
  name: 'Device',
  supported: {
    hostPath,
    containerPath: containerPath.optional(),
    permissions: z
      .array(z.enum(['read', 'write', 'mknod']))
      .refine((p) => new Set(p).size === p.length, 'must not name a permission twice')
      .optional(),
  },
});

const TMPFS_FLAGS = [
  'defaults', 'ro', 'rw', 'suid', 'nosuid', 'dev', 'nodev', 'exec', 'noexec', 'sync', 'async', 'dirsync', 'remount',
  'mand', 'nomand', 'atime', 'noatime', 'diratime', 'nodiratime', 'bind', 'rbind', 'unbindable', 'runbindable',
  'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'relatime', 'norelatime', 'strictatime', 'nostrictatime',
];
const TMPFS_VALUED = ['mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol'];
const tmpfsOption = z
  .string()
  .refine(
    (o) => TMPFS_FLAGS.includes(o) || TMPFS_VALUED.some((k) => o === k || new RegExp(`^${k}=[\\w.:,-]+$`).test(o)),
    `must be one of ECS's tmpfs mount options (${TMPFS_FLAGS.slice(0, 6).join(', ')}, ..., mode=, uid=, gid=, nr_inodes=, nr_blocks=, mpol=)`,
  );

const tmpfs = ecsObject({
  name: 'Tmpfs',
  supported: {
    containerPath,
    // A tmpfs of size 0 has no limit at all in Linux, which is never what a definition means.
    size: wholeNumber(1, INT32_MAX, 'MiB'),
    mountOptions: z.array(tmpfsOption).optional(),
  },
});

const linuxParameters = ecsObject({
  name: 'LinuxParameters',
  supported: {
    capabilities: capabilities.optional(),
    devices: z.array(device).optional(),
    initProcessEnabled: z.boolean().optional(),
    /** 0 leaves Docker's default size. */
    sharedMemorySize: wholeNumber(0, INT32_MAX, 'MiB').optional(),
    tmpfs: z.array(tmpfs).optional(),
    maxSwap: wholeNumber(0, INT32_MAX, 'MiB').optional(),
    swappiness: wholeNumber(0, 100).optional(),
  },
});

const logConfiguration = ecsObject({
  name: 'LogConfiguration',
  supported: {
    logDriver: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,254}$/, 'must be a Docker log driver name such as json-file, fluentd or gelf')
      .refine((d) => d !== 'awsfirelens', REFUSED.awsfirelens),
    options: stringMap.optional(),
  },
  refused: { secretOptions: REFUSED.secretOptions },
});

const restartPolicy = ecsObject({
  name: 'ContainerRestartPolicy',
  supported: {
    enabled: z.boolean(),
    ignoredExitCodes: z.array(wholeNumber(-INT32_MAX, INT32_MAX)).max(50).optional(),
    restartAttemptPeriod: wholeNumber(60, 1800, 'seconds').optional(),
  },
}).superRefine((policy, ctx) => {
  if (policy.enabled) ctx.addIssue({ code: 'custom', path: ['enabled'], message: REFUSED.restartPolicy });
});

const securityOption = z.string().superRefine((option, ctx) => {
  if (/^credentialspec[:=]/.test(option)) ctx.addIssue({ code: 'custom', message: REFUSED.credentialspec });
  else if (!/^(?:no-new-privileges(?:[:=](?:true|false))?|(?:apparmor|label)[:=]\S+)$/.test(option)) {
    ctx.addIssue({ code: 'custom', message: 'must be "no-new-privileges", "apparmor:PROFILE" or "label:VALUE", the options ECS passes to Docker' });
  }
});

const LINK_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}(?::[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254})?$/;
const USER_PATTERN = /^(?=.{1,255}$)[A-Za-z0-9_][A-Za-z0-9_.-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/;
const DOMAIN_PATTERN = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$/;

export const ecsContainerSchema = ecsObject({
  name: 'ContainerDefinition',
  supported: {
    name: containerName,
    image,
    /** CPU shares; 0, 1 or absent become Docker's minimum of 2. */
    cpu: wholeNumber(0, MAX_CPU_SHARES, 'CPU units').optional(),
    memory: memoryMiB.optional(),
    memoryReservation: memoryMiB.optional(),
    links: z.array(z.string().regex(LINK_PATTERN, 'must be a container name, or name:alias')).optional(),
    portMappings: z.array(portMapping).max(64).optional(),
    essential: z.boolean().optional(),
    entryPoint: argList.optional(),
    command: argList.optional(),
    environment: z.array(keyValue).max(1024).optional(),
    mountPoints: z.array(mountPoint).max(64).optional(),
    volumesFrom: z.array(volumeFrom).max(64).optional(),
    linuxParameters: linuxParameters.optional(),
    dependsOn: z.array(dependency).max(64).optional(),
    startTimeout: wholeNumber(2, MAX_TIMEOUT_S, 'seconds').optional(),
    stopTimeout: wholeNumber(0, MAX_TIMEOUT_S, 'seconds').optional(),
    hostname: hostname.optional(),
    user: z.string().regex(USER_PATTERN, 'must be user, uid, user:group or uid:gid').optional(),
    workingDirectory: containerPath.optional(),
    disableNetworking: z.boolean().optional(),
    privileged: z.boolean().optional(),
    readonlyRootFilesystem: z.boolean().optional(),
    dnsServers: z.array(ipAddress).max(16).optional(),
    dnsSearchDomains: z.array(z.string().regex(DOMAIN_PATTERN, 'must be a DNS domain')).max(16).optional(),
    extraHosts: z.array(hostEntry).max(256).optional(),
    dockerSecurityOptions: z.array(securityOption).max(16).optional(),
    interactive: z.boolean().optional(),
    pseudoTerminal: z.boolean().optional(),
    dockerLabels: labels.optional(),
    ulimits: z.array(ulimit).max(ULIMIT_NAMES.length).optional(),
    logConfiguration: logConfiguration.optional(),
    healthCheck: healthCheck.optional(),
    systemControls: z.array(systemControl).max(64).optional(),
    restartPolicy: restartPolicy.optional(),
    /** berth's own, not ECS's: this container's pull behaviour. */
    imagePullBehavior: z.enum(IMAGE_PULL_BEHAVIORS, { error: `must be one of ${IMAGE_PULL_BEHAVIORS.join(', ')}` }).optional(),
  },
  extensions: ['imagePullBehavior'],
  ignored: { versionConsistency: IGNORED.versionConsistency },
  refused: {
    repositoryCredentials: REFUSED.repositoryCredentials,
    secrets: REFUSED.secrets,
    environmentFiles: REFUSED.environmentFiles,
    resourceRequirements: REFUSED.resourceRequirements,
    firelensConfiguration: REFUSED.firelensConfiguration,
    credentialSpecs: REFUSED.credentialSpecs,
    inferenceDevices: REFUSED.inferenceDevices,
  },
}).superRefine((c, ctx) => {
  twice(ctx, c.environment, (e) => e.name, 'environment', 'name', (n) => `environment variable ${n} is given twice`);
  twice(ctx, c.ulimits, (u) => u.name, 'ulimits', 'name', (n) => `ulimit ${n} is given twice`);
  twice(ctx, c.systemControls, (s) => s.namespace, 'systemControls', 'namespace', (n) => `kernel parameter ${n} is given twice`);
  twice(ctx, c.dependsOn, (d) => d.containerName, 'dependsOn', 'containerName', (n) => `the dependency on ${n} is given twice`);
  twice(ctx, c.mountPoints, (m) => m.containerPath.replace(/\/+$/, '') || '/', 'mountPoints', 'containerPath', (p) => `${p} is mounted twice`);
  if (c.memory !== undefined && c.memoryReservation !== undefined && c.memoryReservation > c.memory) {
    ctx.addIssue({ code: 'custom', path: ['memoryReservation'], message: `must not be above memory (${c.memory} MiB): it is the soft limit under the hard one` });
  }
  if (c.linuxParameters?.maxSwap !== undefined && c.memory === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['linuxParameters', 'maxSwap'],
      message: "needs the container's memory: Docker's swap limit is memory plus maxSwap",
    });
  }
});

export type EcsContainer = z.output<typeof ecsContainerSchema>;

function twice<T>(
  ctx: z.core.$RefinementCtx,
  list: readonly T[] | undefined,
  key: (item: T) => string,
  field: string,
  keyField: string,
  message: (value: string) => string,
): void {
  const seen = new Set<string>();
  list?.forEach((item, i) => {
    const value = key(item);
    if (seen.has(value)) ctx.addIssue({ code: 'custom', path: [field, i, keyField], message: message(value) });
    seen.add(value);
  });
}

import { z } from 'zod';
import { DESIRED_STATUSES } from '../status.js';
import { ecsContainerSchema, type EcsContainer } from './ecs-container-schema.js';
import { ecsObject } from './ecs-object.js';
import { arn, family, hostPath, INT32_MAX, labels, MAX_CONTAINERS, MIN_MEMORY_MIB, stringMap, VOLUME_NAME_PATTERN, wholeNumber } from './fields.js';
import { IGNORED, REFUSED } from './refusals.js';

/**
 * An ECS task definition as RegisterTaskDefinition takes it or DescribeTaskDefinition prints it,
 * plus berth's `arn` (required) and `desiredStatus`.
 */

const hostVolume = ecsObject({
  name: 'HostVolumeProperties',
  supported: { sourcePath: hostPath.optional() },
});

const dockerVolume = ecsObject({
  name: 'DockerVolumeConfiguration',
  supported: {
    scope: z.enum(['task', 'shared']).optional(),
    autoprovision: z.boolean().optional(),
    driver: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,254}$/, 'must be a Docker volume driver name such as local').optional(),
    driverOpts: stringMap.optional(),
    labels: labels.optional(),
  },
}).superRefine((v, ctx) => {
  if (v.autoprovision && v.scope !== 'shared') {
    ctx.addIssue({ code: 'custom', path: ['autoprovision'], message: 'only a shared volume can be provisioned on demand; a task volume is always made with its task' });
  }
});

const volume = ecsObject({
  name: 'Volume',
  supported: {
    name: z.string().regex(VOLUME_NAME_PATTERN, 'must be 1-255 characters of [A-Za-z0-9_-]'),
    host: hostVolume.optional(),
    dockerVolumeConfiguration: dockerVolume.optional(),
  },
  refused: {
    efsVolumeConfiguration: REFUSED.efsVolumeConfiguration,
    fsxWindowsFileServerVolumeConfiguration: REFUSED.fsxWindowsFileServerVolumeConfiguration,
    configuredAtLaunch: REFUSED.configuredAtLaunch,
  },
}).superRefine((v, ctx) => {
  if (v.host !== undefined && v.dockerVolumeConfiguration !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['dockerVolumeConfiguration'], message: 'give either host (a bind mount) or dockerVolumeConfiguration (a Docker volume), not both' });
  }
});

const runtimePlatform = ecsObject({
  name: 'RuntimePlatform',
  supported: {
    cpuArchitecture: z.string().regex(/^[A-Z0-9_]{1,64}$/, 'must be an ECS CPU architecture such as X86_64 or ARM64').optional(),
    operatingSystemFamily: z.string().regex(/^[A-Z0-9_]{1,64}$/, 'must be an ECS operating system family such as LINUX').optional(),
  },
});

const NETWORK_MODE_INPUTS = ['bridge', 'host', 'none', 'default'] as const;
const networkMode = z
  .string()
  .superRefine((mode, ctx) => {
    if (mode === 'awsvpc') ctx.addIssue({ code: 'custom', message: REFUSED.awsvpc });
    else if (!(NETWORK_MODE_INPUTS as readonly string[]).includes(mode)) {
      ctx.addIssue({ code: 'custom', message: 'must be "bridge" (the default), "host" or "none" ("default" is Docker\'s name for bridge)' });
    }
  })
  .transform((mode) => (mode === 'default' ? 'bridge' : (mode as 'bridge' | 'host' | 'none')));

const CPU_UNITS = { min: 128, max: 196_608 };

/** Task-level CPU: units as a number or digits, or vCPUs as ECS writes them ("1 vCPU", ".25 vcpu"). */
const taskCpu = taskSize(
  /^\s*(\d+|\d*\.\d+)\s*(vcpu)?\s*$/i,
  CPU_UNITS.min,
  CPU_UNITS.max,
  `must be CPU units from ${CPU_UNITS.min} to ${CPU_UNITS.max}, as a number or a string like "256", or vCPUs like "1 vCPU" or ".25 vcpu"`,
);
/** Task-level memory: MiB as a number or digits, or GB as ECS writes them ("1GB", ".5 gb"). */
const taskMemory = taskSize(
  /^\s*(\d+|\d*\.\d+)\s*(gb)?\s*$/i,
  MIN_MEMORY_MIB,
  INT32_MAX,
  `must be MiB (at least ${MIN_MEMORY_MIB}), as a number or a string like "512", or GB like "1GB" or ".5 gb"`,
);

function taskSize(pattern: RegExp, min: number, max: number, message: string) {
  return z.union([z.number(), z.string()]).transform((raw, ctx) => {
    const match = typeof raw === 'string' ? pattern.exec(raw) : null;
    const value = typeof raw === 'number' ? raw : match ? Number(match[1]) * (match[2] ? 1024 : 1) : NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return value;
  });
}

export const ecsTaskSchema = ecsObject({
  name: 'TaskDefinition',
  supported: {
    arn,
    desiredStatus: z.enum(DESIRED_STATUSES).optional(),
    family,
    revision: wholeNumber(1, INT32_MAX).optional(),
    containerDefinitions: z.array(ecsContainerSchema).min(1).max(MAX_CONTAINERS),
    networkMode: networkMode.optional(),
    pidMode: z.enum(['host', 'task']).optional(),
    ipcMode: z.enum(['host', 'task', 'none']).optional(),
    volumes: z.array(volume).max(64).optional(),
    cpu: taskCpu.optional(),
    memory: taskMemory.optional(),
    runtimePlatform: runtimePlatform.optional(),
  },
  extensions: ['arn', 'desiredStatus'],
  ignored: {
    taskRoleArn: IGNORED.taskRoleArn,
    executionRoleArn: IGNORED.executionRoleArn,
    requiresCompatibilities: IGNORED.requiresCompatibilities,
    compatibilities: IGNORED.compatibilities,
    taskDefinitionArn: IGNORED.taskDefinitionArn,
    status: IGNORED.status,
    requiresAttributes: IGNORED.requiresAttributes,
    registeredAt: IGNORED.registeredAt,
    registeredBy: IGNORED.registeredBy,
    deregisteredAt: IGNORED.deregisteredAt,
    placementConstraints: IGNORED.placementConstraints,
    tags: IGNORED.tags,
    ephemeralStorage: IGNORED.ephemeralStorage,
    enableFaultInjection: IGNORED.enableFaultInjection,
  },
  refused: {
    proxyConfiguration: REFUSED.proxyConfiguration,
    inferenceAccelerators: REFUSED.inferenceAccelerators,
  },
}).superRefine((task, ctx) => {
  checkTaskSize(task.containerDefinitions, task.cpu, task.memory, ctx);
  if (task.networkMode === 'host') checkHostModePorts(task.containerDefinitions, ctx);
});

export type EcsTask = z.output<typeof ecsTaskSchema>;

/**
 * ECS's rules for task-level resources, on the values as written (a container without cpu
 * counts 0 here, before it becomes Docker's minimum of 2 shares).
 */
function checkTaskSize(containers: readonly EcsContainer[], cpu: number | undefined, memory: number | undefined, ctx: z.core.$RefinementCtx): void {
  if (cpu !== undefined) {
    const total = containers.reduce((sum, c) => sum + (c.cpu ?? 0), 0);
    if (total > cpu) ctx.addIssue({ code: 'custom', path: ['cpu'], message: `the containers ask for ${total} CPU units together, more than the task's ${cpu}` });
  }
  if (memory === undefined) return;
  const over = containers.flatMap((c, i) => (c.memory !== undefined && c.memory > memory ? [i] : []));
  for (const i of over) {
    ctx.addIssue({ code: 'custom', path: ['containerDefinitions', i, 'memory'], message: `must not be above the task's memory (${memory} MiB)` });
  }
  if (over.length > 0) return;
  const reserved = containers.reduce((sum, c) => sum + (c.memoryReservation ?? c.memory ?? 0), 0);
  if (reserved > memory) {
    ctx.addIssue({ code: 'custom', path: ['memory'], message: `the containers reserve ${reserved} MiB together (memoryReservation, else memory), more than the task's ${memory}` });
  }
}

/** ECS's rule: with host networking a container's port is the host's port. */
function checkHostModePorts(containers: readonly EcsContainer[], ctx: z.core.$RefinementCtx): void {
  containers.forEach((c, i) =>
    c.portMappings?.forEach((m, j) => {
      if (m.hostPort && m.hostPort !== m.containerPort) {
        ctx.addIssue({
          code: 'custom',
          path: ['containerDefinitions', i, 'portMappings', j, 'hostPort'],
          message: `with networkMode "host" the container listens on the host's port itself: leave hostPort out or make it ${m.containerPort}, the containerPort`,
        });
      }
    }),
  );
}

import { z } from 'zod';
import { DESIRED_STATUSES } from '../status.js';
import { CONTAINER_DEFAULTS, IMAGE_PULL_BEHAVIORS, PORT_MAPPING_DEFAULTS, TASK_DEFAULTS } from '../task.js';
import { ecsFieldsOf } from './ecs-object.js';
import { argList, arn, containerName, envName, envValue, family, image, ipAddress, labels, MAX_CONTAINERS, port, VERSION_PATTERN, wholeNumber } from './fields.js';

/**
 * berth's short form: `containers`, environment as an object, `version`. It keeps the fields it
 * always had; everything else is written in the ECS form.
 */

const portMappingSchema = z.strictObject({
  containerPort: port,
  hostPort: port.optional(),
  protocol: z.enum(['tcp', 'udp']).default(PORT_MAPPING_DEFAULTS.protocol),
  hostIp: ipAddress.default(PORT_MAPPING_DEFAULTS.hostIp),
});

const containerSchema = z.strictObject(
  {
    name: containerName,
    image,
    command: argList.optional(),
    entryPoint: argList.optional(),
    environment: z.record(envName, envValue).default({}),
    essential: z.boolean().default(CONTAINER_DEFAULTS.essential),
    labels: labels.default({}),
    stopTimeout: wholeNumber(0, 3600, 'seconds').default(CONTAINER_DEFAULTS.stopTimeout),
    portMappings: z.array(portMappingSchema).max(64).default([]),
    imagePullBehavior: z.enum(IMAGE_PULL_BEHAVIORS, { error: `must be one of ${IMAGE_PULL_BEHAVIORS.join(', ')}` }).optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? notInShortForm(issue.keys, 'ContainerDefinition') : undefined) },
);

const versionSchema = z.union([
  z.string().regex(VERSION_PATTERN, 'must match [A-Za-z0-9._-]{1,128}'),
  z.number().int().nonnegative().transform(String),
]);

export const taskDefinitionSchema = z.strictObject(
  {
    arn,
    family,
    version: versionSchema,
    desiredStatus: z.enum(DESIRED_STATUSES).default(TASK_DEFAULTS.desiredStatus),
    containers: z.array(containerSchema).min(1).max(MAX_CONTAINERS),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? notInShortForm(issue.keys, 'TaskDefinition') : undefined) },
);

export type ShortTask = z.output<typeof taskDefinitionSchema>;

function notInShortForm(keys: readonly string[], ecsType: string): string {
  const ecs = ecsFieldsOf(ecsType);
  return keys
    .map((key) =>
      ecs.includes(key)
        ? `"${key}" is not in berth's short form; write the task as an ECS task definition (containerDefinitions) to use it`
        : `unknown field "${key}"`,
    )
    .join('; ');
}

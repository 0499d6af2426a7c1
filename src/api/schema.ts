import { isIP } from 'node:net';
import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../errors.js';
import { RESERVED_LABEL_PREFIX } from './labels.js';
import { DESIRED_STATUSES } from './status.js';
import { containerDefinition, TASK_DEFAULTS, type TaskDefinition } from './task.js';

/**
 * The one schema for task input: the socket API validates request bodies with it and the CLI
 * validates files with it, so both reject the same things with the same messages.
 */

export const ARN_PATTERN = /^[A-Za-z0-9:/._-]{1,255}$/;
/** Docker's container-name rule. */
const CONTAINER_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;
const FAMILY_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
const VERSION_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
const ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Docker's reference grammar (distribution/reference): [domain[:port]/]path[:tag][@digest]. */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9A-Fa-f:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}';
const REFERENCE_PATTERN = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`,
);
const MAX_IMAGE_NAME = 255;

export function isImageReference(value: string): boolean {
  const name = value.split('@')[0]!.replace(/:[\w][\w.-]{0,127}$/, '');
  return REFERENCE_PATTERN.test(value) && name.length <= MAX_IMAGE_NAME;
}

const MAX_ARG = 32 * 1024;
const port = z.number().int().min(1).max(65535);
const shortString = (max: number) => z.string().max(max);

const portMappingSchema = z.strictObject({
  containerPort: port,
  hostPort: port.optional(),
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
  hostIp: z
    .string()
    .refine((ip) => isIP(ip) !== 0, 'must be an IPv4 or IPv6 address')
    .default('127.0.0.1'),
});

const labelsSchema = z
  .record(z.string().min(1).max(255), shortString(4096))
  .superRefine((labels, ctx) => {
    for (const key of Object.keys(labels)) {
      if (key.startsWith(RESERVED_LABEL_PREFIX)) {
        ctx.addIssue({ code: 'custom', path: [key], message: `label prefix "${RESERVED_LABEL_PREFIX}" is reserved for the agent` });
      }
    }
  });

const containerSchema = z.strictObject({
  name: z.string().regex(CONTAINER_NAME_PATTERN, 'must match [a-zA-Z0-9][a-zA-Z0-9_.-]* (Docker name rules), at most 255 chars'),
  image: z.string().refine(isImageReference, 'must be a Docker image reference like registry:5000/repo/name:tag'),
  command: z.array(shortString(MAX_ARG)).max(256).optional(),
  entryPoint: z.array(shortString(MAX_ARG)).max(256).optional(),
  environment: z
    .record(z.string().regex(ENV_KEY_PATTERN, 'environment keys must match [A-Za-z_][A-Za-z0-9_]*'), shortString(MAX_ARG))
    .default({}),
  essential: z.boolean().default(true),
  labels: labelsSchema.default({}),
  stopTimeout: z.number().int().min(0).max(3600).default(30),
  portMappings: z.array(portMappingSchema).max(64).default([]),
});

/** The container fields the short form takes. */
export const SHORT_FORM_KEYS = Object.keys(containerSchema.shape);

const versionSchema = z.union([
  z.string().regex(VERSION_PATTERN, 'must match [A-Za-z0-9._-]{1,128}'),
  z.number().int().nonnegative().transform(String),
]);

const arnSchema = z.string().regex(ARN_PATTERN, 'must be 1-255 characters of [A-Za-z0-9:/._-]');

export const taskDefinitionSchema = z
  .strictObject({
    arn: arnSchema,
    family: z.string().regex(FAMILY_PATTERN, 'must be 1-255 characters of [A-Za-z0-9_-]'),
    version: versionSchema,
    desiredStatus: z.enum(DESIRED_STATUSES).default('RUNNING'),
    containers: z.array(containerSchema).min(1).max(10),
  })
  .superRefine((task, ctx) => {
    const seen = new Map<string, number>();
    task.containers.forEach((c, i) => {
      if (seen.has(c.name)) {
        ctx.addIssue({ code: 'custom', path: ['containers', i, 'name'], message: `duplicate container name "${c.name}"` });
      }
      seen.set(c.name, i);
    });
    const hostPorts = new Set<string>();
    task.containers.forEach((c, i) =>
      c.portMappings.forEach((m, j) => {
        if (m.hostPort === undefined) return;
        const key = `${m.hostIp}/${m.protocol}/${m.hostPort}`;
        if (hostPorts.has(key)) {
          ctx.addIssue({
            code: 'custom',
            path: ['containers', i, 'portMappings', j, 'hostPort'],
            message: `host port ${m.hostIp}:${m.hostPort}/${m.protocol} is already used by this task`,
          });
        }
        hostPorts.add(key);
      }),
    );
  });

/** A request to change only the desired status of a task the agent already knows. */
export const desiredStatusUpdateSchema = z.strictObject({
  arn: arnSchema,
  desiredStatus: z.enum(DESIRED_STATUSES),
});

export type TaskInput =
  | { readonly kind: 'definition'; readonly task: TaskDefinition }
  | { readonly kind: 'desired-status'; readonly arn: string; readonly desiredStatus: TaskDefinition['desiredStatus'] };

function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/** `containers[0].portMappings[1].hostPort` — the form operators read in errors. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}

/**
 * Parses a POST /v1/tasks body (or a task file): either a whole task, or `{arn, desiredStatus}`
 * for a task that already exists. Throws ValidationError naming every bad field.
 */
export function parseTaskInput(body: unknown): TaskInput {
  checkKeys(body);
  if (isPlainObject(body) && Object.keys(body).every((k) => k === 'arn' || k === 'desiredStatus') && 'desiredStatus' in body) {
    const update = desiredStatusUpdateSchema.safeParse(body);
    if (!update.success) throw new ValidationError(toFieldIssues(update.error));
    return { kind: 'desired-status', arn: update.data.arn, desiredStatus: update.data.desiredStatus };
  }
  const parsed = taskDefinitionSchema.safeParse(body);
  if (!parsed.success) throw new ValidationError(toFieldIssues(parsed.error));
  const { containers, ...task } = parsed.data;
  return { kind: 'definition', task: { ...TASK_DEFAULTS, ...task, containers: containers.map(containerDefinition) } };
}

/** No valid task nests deeper than this; a deeper body is refused before it is walked further. */
const MAX_DEPTH = 16;

/**
 * JSON.parse makes `__proto__` an ordinary key, but copying it into an object (as the schema does)
 * silently drops it: it is rejected outright, so what is validated is what is stored. The walk is
 * iterative and bounded, so a hostile body nested 100,000 deep cannot exhaust the stack.
 */
function checkKeys(body: unknown): void {
  const stack: Array<{ value: unknown; path: PropertyKey[] }> = [{ value: body, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (path.length > MAX_DEPTH) throw new ValidationError([{ path: formatPath(path), message: `nested more than ${MAX_DEPTH} levels deep` }]);
    for (const key of Object.keys(value)) {
      const at = [...path, Array.isArray(value) ? Number(key) : key];
      if (key === '__proto__') throw new ValidationError([{ path: formatPath(at), message: 'the key "__proto__" is not allowed' }]);
      stack.push({ value: (value as Record<string, unknown>)[key], path: at });
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import { isIP } from 'node:net';
import { z } from 'zod';
import { RESERVED_LABEL_PREFIX, isReservedLabel } from '../labels.js';

/** Field rules both input forms share, so a name or a port means the same in either. */

export const ARN_PATTERN = /^[A-Za-z0-9:/._-]{1,255}$/;
/** Docker's container-name rule (a superset of ECS's, which has no dots). */
const CONTAINER_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;
export const FAMILY_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
export const VERSION_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
/** A name a process can read back from its environment; dots and dashes for Java-style names. */
const ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** ECS's rule for volume names. */
export const VOLUME_NAME_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;

/** ECS's API types its numbers as 32-bit integers; nothing larger can be meant. */
export const INT32_MAX = 2_147_483_647;
export const MAX_ARG = 32 * 1024;
/** Docker's smallest memory limit (20.10 and later), in MiB. */
export const MIN_MEMORY_MIB = 6;
export const MAX_CONTAINERS = 10;

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

export const containerName = z
  .string()
  .regex(CONTAINER_NAME_PATTERN, 'must match [a-zA-Z0-9][a-zA-Z0-9_.-]* (Docker name rules), at most 255 chars');
export const image = z.string().refine(isImageReference, 'must be a Docker image reference like registry:5000/repo/name:tag');
export const family = z.string().regex(FAMILY_PATTERN, 'must be 1-255 characters of [A-Za-z0-9_-]');
export const arn = z.string().regex(ARN_PATTERN, 'must be 1-255 characters of [A-Za-z0-9:/._-]');
export const argList = z.array(z.string().max(MAX_ARG)).max(256);
export const envName = z
  .string()
  .regex(ENV_KEY_PATTERN, 'environment names must match [A-Za-z_][A-Za-z0-9_.-]*')
  // Environment lists become objects, where this name would be the prototype, not a variable.
  .refine((name) => name !== '__proto__', 'the name "__proto__" is not allowed');
export const envValue = z.string().max(MAX_ARG);
export const ipAddress = z.string().refine((ip) => isIP(ip) !== 0, 'must be an IPv4 or IPv6 address');

/**
 * A whole number from `min` to `max`. The digits may also come as a string ("256"), as templates
 * and CloudFormation-style definitions write them; they are read as the same number.
 */
export function wholeNumber(min: number, max: number, unit = '', message = `must be a whole number from ${min} to ${max}${unit ? ` ${unit}` : ''}`) {
  return z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message }),
  );
}

export const port = wholeNumber(1, 65535);

/** Container memory in MiB: Docker refuses a limit below its minimum. */
export const memoryMiB = wholeNumber(MIN_MEMORY_MIB, INT32_MAX, 'MiB', `must be a whole number of MiB, at least ${MIN_MEMORY_MIB} (Docker's smallest memory limit)`);

export const labels = z.record(z.string().min(1).max(255), z.string().max(4096)).superRefine((record, ctx) => {
  for (const key of Object.keys(record)) {
    if (isReservedLabel(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: `label prefix "${RESERVED_LABEL_PREFIX}" is reserved for the agent` });
    }
  }
});

/** A string → string map (log and volume driver options): Docker takes them as given. */
export const stringMap = z.record(z.string().min(1).max(255), z.string().max(MAX_ARG));

/** An absolute path inside a container: Docker refuses relative ones. */
export const containerPath = z.string().max(4096).regex(/^\//, 'must be an absolute path (starting with /)');

/** A path on the host: absolute, and without `..`, so what is mounted is what is written. */
export const hostPath = z
  .string()
  .max(4096)
  .regex(/^\//, 'must be an absolute path (starting with /)')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".." (name the directory itself)');

/**
 * The revision of an ECS definition that gives none (RegisterTaskDefinition input never does):
 * the number ECS gives a family's first registration.
 */
export const DEFAULT_REVISION = 1;

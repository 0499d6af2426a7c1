import { ARN_PATTERN, DEFAULT_REVISION, FAMILY_PATTERN, VERSION_PATTERN } from './fields.js';

/**
 * The arn `agent task apply` gives a definition that has none: `arn:berth:task/<family>:<revision>`
 * (the short form's `version` stands in for the revision). Undefined when the body has no usable
 * family or revision; the parser then names what is wrong.
 */
export function derivedArn(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const fields = body as Record<string, unknown>;
  const revision = 'containers' in fields ? fields.version : (fields.revision ?? DEFAULT_REVISION);
  if (typeof fields.family !== 'string' || !FAMILY_PATTERN.test(fields.family)) return undefined;
  if ((typeof revision !== 'string' && typeof revision !== 'number') || !VERSION_PATTERN.test(String(revision))) return undefined;
  const arn = `arn:berth:task/${fields.family}:${String(revision)}`;
  return ARN_PATTERN.test(arn) ? arn : undefined;
}

import { z } from 'zod';
import type { FieldIssue } from '../../errors.js';
import { formatPath } from './issues.js';

/**
 * One ECS object type (ContainerDefinition, PortMapping, ...) as berth reads it: every field ECS
 * defines is supported (a schema), ignored (accepted, no effect, a warning) or refused (a reason).
 * A key ECS does not define is refused as unknown, with a hint when it looks like a known one.
 */
export interface EcsObjectSpec<S extends z.core.$ZodLooseShape, I extends string = never, R extends string = never> {
  /** ECS's name for the type, used in messages ("ContainerDefinition"). */
  readonly name: string;
  readonly supported: S;
  /** Field → why it has no effect here. */
  readonly ignored?: Readonly<Record<I, string>>;
  /** Field → why it cannot be honoured here. Empty values (`[]`, `{}`, `false`) ask for nothing and pass. */
  readonly refused?: Readonly<Record<R, string>>;
  /** Fields berth adds to ECS's type; parsed like any supported field. */
  readonly extensions?: readonly (keyof S & string)[];
}

/** What is known about an ECS type once its schema is built: the field names and the reasons. */
export interface EcsTypeInfo {
  readonly name: string;
  readonly supported: readonly string[];
  readonly extensions: readonly string[];
  readonly ignored: Readonly<Record<string, string>>;
  readonly refused: Readonly<Record<string, string>>;
}

/** Names people reach for that ECS spells differently. */
const ALIASES: Readonly<Record<string, string>> = {
  portBindings: 'portMappings',
  labels: 'dockerLabels',
  version: 'revision',
  env: 'environment',
};

const types: EcsTypeInfo[] = [];
/** Every ECS object type berth reads, for the tests that check no ECS field is ever called unknown. */
export const ECS_TYPES: readonly EcsTypeInfo[] = types;

export function ecsObject<S extends z.core.$ZodLooseShape, I extends string = never, R extends string = never>(spec: EcsObjectSpec<S, I, R>) {
  const ignored: Readonly<Record<string, string>> = spec.ignored ?? {};
  const refused: Readonly<Record<string, string>> = spec.refused ?? {};
  types.push({ name: spec.name, supported: Object.keys(spec.supported), extensions: spec.extensions ?? [], ignored, refused });
  const passthrough = Object.fromEntries(Object.keys(ignored).map((k) => [k, z.unknown().optional()]));
  const refusals = Object.fromEntries(Object.entries(refused).map(([k, why]) => [k, refusal(why)]));
  const known = [...Object.keys(spec.supported), ...Object.keys(passthrough), ...Object.keys(refusals)];
  const shape = { ...spec.supported, ...passthrough, ...refusals } as S & { [K in I | R]: z.ZodOptional<z.ZodUnknown> };
  return z.preprocess(
    withoutNulls,
    z.strictObject(shape, {
      error: (issue) => (issue.code === 'unrecognized_keys' ? unknownFields(spec.name, issue.keys, known) : undefined),
    }),
  );
}

function refusal(why: string) {
  return z
    .unknown()
    .optional()
    .superRefine((value, ctx) => {
      if (!isEmpty(value)) ctx.addIssue({ code: 'custom', message: why });
    });
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === false) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}

/** In ECS's API a member set to null is a member left out; tools that print definitions write both. */
function withoutNulls(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null));
}

function unknownFields(type: string, keys: readonly string[], known: readonly string[]): string {
  return keys
    .map((key) => {
      const alias = Object.hasOwn(ALIASES, key) ? ALIASES[key] : undefined;
      const hint = alias !== undefined && known.includes(alias) ? alias : known.find((k) => k.toLowerCase() === key.toLowerCase());
      return `unknown field "${key}": ECS's ${type} has no such field${hint ? ` (did you mean "${hint}"?)` : ''}`;
    })
    .join('; ');
}

/** Every field ECS defines for a type, whatever berth does with it (berth's own extensions left out). */
export function ecsFieldsOf(type: string): readonly string[] {
  const info = types.find((t) => t.name === type);
  if (!info) return [];
  return [...info.supported.filter((k) => !info.extensions.includes(k)), ...Object.keys(info.ignored), ...Object.keys(info.refused)];
}

/** A warning for each ignored field an object has, at its path. */
export function ignoredFields(type: string, value: Readonly<Record<string, unknown>>, path: readonly PropertyKey[]): FieldIssue[] {
  const info = types.find((t) => t.name === type);
  return Object.entries(info?.ignored ?? {})
    .filter(([key]) => value[key] !== undefined)
    .map(([key, why]) => ({ path: formatPath([...path, key]), message: `accepted, no effect: ${why}` }));
}

/*
 * Structural codecs for what the state layer stores: JSON types and required keys, never the
 * bounds of the input rules (those belong to src/api/ and change between versions; a value that
 * was accepted once must keep loading). One codec checks a value both ways:
 *
 * - `write` (checkCommit, before anything is saved): the value must come back from a load exactly
 *   as it is, so every required key must be there, nothing may be NaN or a class instance, and a
 *   key the stored model does not declare is refused (it would be silently dropped).
 * - `read` (loading): what an older build wrote lacks the keys added since, which get their
 *   defaults; what a newer build of the same schema wrote may have keys this build does not know,
 *   which are ignored, so going back one version does not quarantine running tasks.
 */

export type Mode = 'read' | 'write';

export interface Context {
  readonly mode: Mode;
  issue(path: string, message: string): void;
}

export const INVALID: unique symbol = Symbol('invalid');
export type Parsed<T> = T | typeof INVALID;

/** How a value is kept when it has a column of its own: TEXT, INTEGER, REAL, INTEGER 0/1, or JSON text. */
export type SqlKind = 'text' | 'integer' | 'real' | 'boolean' | 'json';

export interface Codec<T> {
  readonly sql: SqlKind;
  parse(value: unknown, path: string, ctx: Context): Parsed<T>;
}

/** An object key that may be absent. */
export interface Optional<T> {
  readonly optional: Codec<T>;
}

export function optional<T>(codec: Codec<T>): Optional<T> {
  return { optional: codec };
}

type OptionalKey<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

/**
 * A codec for every key of T, optional keys wrapped in `optional(...)`. Mapped over T itself, so a
 * key added to the model type and not declared here fails to compile, as does a declared key the
 * type does not have.
 */
export type Fields<T> = {
  readonly [K in keyof T]-?: K extends OptionalKey<T> ? Optional<Exclude<T[K], undefined>> : Codec<T[K]>;
};

export function isOptional(field: Codec<unknown> | Optional<unknown>): field is Optional<unknown> {
  return 'optional' in field;
}

export function codecOf(field: Codec<unknown> | Optional<unknown>): Codec<unknown> {
  return isOptional(field) ? field.optional : field;
}

export function describe(value: unknown): string {
  if (value === undefined || typeof value === 'number' || typeof value === 'function' || typeof value === 'symbol') {
    return String(value);
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function fail(ctx: Context, path: string, message: string): typeof INVALID {
  ctx.issue(path, message);
  return INVALID;
}

function scalar<T>(sql: SqlKind, expected: string, test: (value: unknown) => boolean): Codec<T> {
  return {
    sql,
    parse: (value, path, ctx) => (test(value) ? (value as T) : fail(ctx, path, `must be ${expected}, got ${describe(value)}`)),
  };
}

export const text: Codec<string> = scalar('text', 'a string', (v) => typeof v === 'string');
/** For what the schema's CHECKs (length(x) > 0) require. */
export const nonEmptyText: Codec<string> = scalar('text', 'a non-empty string', (v) => typeof v === 'string' && v !== '');
/** Finite: JSON has no NaN or Infinity, so they could not come back. */
export const number: Codec<number> = scalar('real', 'a finite number', (v) => typeof v === 'number' && Number.isFinite(v));
/** For INTEGER columns (epoch milliseconds, exit codes): SQLite would refuse a fraction. */
export const integer: Codec<number> = scalar('integer', 'an integer', (v) => Number.isSafeInteger(v));
/** For what the schema's CHECKs (x >= 1) require. */
export const positiveInteger: Codec<number> = scalar('integer', 'an integer of at least 1', (v) => Number.isSafeInteger(v) && (v as number) >= 1);
export const boolean: Codec<boolean> = scalar('boolean', 'a boolean', (v) => typeof v === 'boolean');

/** One of a fixed list; a value no reader knows (a status, a mode) cannot be acted on, so it is refused both ways. */
export function oneOf<const T extends readonly string[]>(values: T): Codec<T[number]> {
  return {
    sql: 'text',
    parse: (value, path, ctx) =>
      values.includes(value as string)
        ? (value as T[number])
        : fail(ctx, path, `is ${describe(value)}, not one of ${values.join(', ')}`),
  };
}

export function array<T>(item: Codec<T>): Codec<readonly T[]> {
  return {
    sql: 'json',
    parse(value, path, ctx) {
      if (!Array.isArray(value)) return fail(ctx, path, `must be an array, got ${describe(value)}`);
      const out: T[] = [];
      let ok = true;
      // Indexes, not for-of: a hole must be reported, not read as undefined and dropped by JSON.
      for (let i = 0; i < value.length; i += 1) {
        const parsed = item.parse(value[i], `${path}[${i}]`, ctx);
        if (parsed === INVALID) ok = false;
        else out.push(parsed);
      }
      return ok ? out : INVALID;
    },
  };
}

/** String keys to values of one codec (environment, labels). */
export function record<T>(item: Codec<T>): Codec<Readonly<Record<string, T>>> {
  return {
    sql: 'json',
    parse(value, path, ctx) {
      if (!isPlainObject(value)) return fail(ctx, path, `must be an object, got ${describe(value)}`);
      let ok = true;
      const entries: [string, T][] = [];
      for (const [key, inner] of Object.entries(value)) {
        const parsed = item.parse(inner, `${path}.${key}`, ctx);
        if (parsed === INVALID) ok = false;
        else entries.push([key, parsed]);
      }
      // fromEntries defines keys as data, so an environment variable named __proto__ stays one.
      return ok ? Object.fromEntries(entries) : INVALID;
    },
  };
}

/**
 * An object with exactly the keys of T. Reading fills a missing key from `defaults` (rows written
 * before the key existed) and ignores keys it does not declare; writing does neither (see above).
 */
export function object<T>(fields: Fields<T>, defaults: Partial<T> = {}): Codec<T> {
  const entries = Object.entries(fields) as [string, Codec<unknown> | Optional<unknown>][];
  const fallback = defaults as Record<string, unknown>;
  // State values are immutable and shared between a task's successive states (a definition never
  // changes once accepted): an object that passed the write check once is not walked again.
  const written = new WeakSet<object>();
  return {
    sql: 'json',
    parse(value, path, ctx) {
      if (!isPlainObject(value)) return fail(ctx, path, `must be an object, got ${describe(value)}`);
      if (ctx.mode === 'write' && written.has(value)) return value as T;
      const out: Record<string, unknown> = {};
      let ok = true;
      for (const [key, field] of entries) {
        const at = path ? `${path}.${key}` : key;
        const inner = Object.hasOwn(value, key) ? value[key] : undefined;
        if (inner === undefined) {
          // A copy: a default shared by every loaded task would be frozen or aliased through one of them.
          if (ctx.mode === 'read' && Object.hasOwn(fallback, key)) out[key] = structuredClone(fallback[key]);
          else if (!isOptional(field)) {
            ctx.issue(at, 'is missing');
            ok = false;
          }
          continue;
        }
        const parsed = codecOf(field).parse(inner, at, ctx);
        if (parsed === INVALID) ok = false;
        else out[key] = parsed;
      }
      if (ctx.mode === 'write') {
        for (const key of Object.keys(value)) {
          if (!Object.hasOwn(fields, key) && value[key] !== undefined) {
            ctx.issue(path ? `${path}.${key}` : key, 'is not a field of the stored model');
            ok = false;
          }
        }
      }
      if (ok && ctx.mode === 'write') written.add(value);
      return ok ? (out as T) : INVALID;
    },
  };
}

/** A union told apart by one key (`kind`); each case is a codec of its own shape. */
export function variants<T extends object>(key: keyof T & string, cases: Readonly<Record<string, Codec<T>>>): Codec<T> {
  return {
    sql: 'json',
    parse(value, path, ctx) {
      if (!isPlainObject(value)) return fail(ctx, path, `must be an object, got ${describe(value)}`);
      const tag = value[key];
      const codec = typeof tag === 'string' && Object.hasOwn(cases, tag) ? cases[tag] : undefined;
      if (!codec) {
        return fail(ctx, path ? `${path}.${key}` : key, `is ${describe(tag)}, not one of ${Object.keys(cases).join(', ')}`);
      }
      return codec.parse(value, path, ctx);
    },
  };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

import { errorMessage } from '../errors.js';
import { codecOf, describe, INVALID, isPlainObject, object, type Codec, type Fields, type Optional, type Parsed, type SqlKind } from './codec.js';

/*
 * How one record (a task, a container, an event) maps onto one table row, derived from a single
 * declaration (records.ts): the fields with their codecs, which of them have a column of their own,
 * and the defaults for rows written before a field existed. Every field without a column lives in
 * the row's `extra` column, a JSON object, so a new field needs no migration and no column list.
 */

export type SqlValue = string | number | null;
export type Row = Record<string, SqlValue>;

/** The JSON-object column (migrations/004_extra_fields.sql) that holds every field without a column. */
export const EXTRA = 'extra';

/** A column name, or for an object of scalars (a reason's code and message) one column per key. */
type Placement<V> = string | { readonly [S in keyof NonNullable<V>]-?: string };

export interface RecordSpec<T> {
  readonly fields: Fields<T>;
  /** What a row written before the field existed loads with. A field absent here loads absent. */
  readonly defaults?: Partial<T>;
  /** Fields that SQL needs as columns (CHECKs, indexes, ORDER BY) or that released schemas already had. */
  readonly columns: { readonly [K in keyof T]?: Placement<T[K]> };
  /**
   * Stored when the field is absent, and read back as absent: for a value most rows share and whose
   * absence means "this build's" (a task's parse-rules version).
   */
  readonly implicit?: Partial<T>;
}

type Issue = (path: string, message: string) => void;

export interface StoredRecord<T> {
  /** Every column the record is written to, `extra` included. */
  readonly columns: readonly string[];
  /** Write-mode check of an in-memory value (codec.ts); false when it raised an issue. */
  check(value: unknown, path: string, issue: Issue): boolean;
  toRow(value: T): Row;
  /** Issues name columns (`known_status`, `extra.health`), which is what an operator finds in the file. */
  fromRow(row: Readonly<Row>, issue: Issue): Parsed<T>;
}

export function storedRecord<T>(spec: RecordSpec<T>): StoredRecord<T> {
  const codec = object<T>(spec.fields, spec.defaults);
  const fields = Object.entries(spec.fields) as [string, Codec<unknown> | Optional<unknown>][];
  const placements = spec.columns as Readonly<Record<string, Placement<unknown> | undefined>>;
  const implicit = (spec.implicit ?? {}) as Readonly<Record<string, unknown>>;
  const columns = [
    ...fields.flatMap(([key]) => {
      const place = placements[key];
      return place === undefined ? [] : typeof place === 'string' ? [place] : Object.values<string>(place);
    }),
    EXTRA,
  ];

  /** `knownStatus` becomes `known_status`, `reason.code` `reason_code`, `health` `extra.health`. */
  const columnPath = (path: string): string => {
    const [, key = '', rest = ''] = /^([^.[]*)(.*)$/.exec(path) ?? [];
    const place = placements[key];
    if (place === undefined) return `${EXTRA}.${path}`;
    if (typeof place === 'string') return `${place}${rest}`;
    const [, sub = '', tail = ''] = /^\.([^.[]*)(.*)$/.exec(rest) ?? [];
    const column = (place as Record<string, string>)[sub];
    return column ? `${column}${tail}` : `${Object.values<string>(place).join('/')}${rest}`;
  };

  return {
    columns,
    check: (value, path, issue) => codec.parse(value, path, { mode: 'write', issue }) !== INVALID,

    toRow(value) {
      const row: Row = {};
      const extra: Record<string, unknown> = {};
      for (const [key, field] of fields) {
        const inner = (value as Record<string, unknown>)[key] ?? implicit[key];
        const place = placements[key];
        if (place === undefined) {
          if (inner !== undefined) extra[key] = inner;
        } else if (typeof place === 'string') {
          row[place] = toSql(codecOf(field).sql, inner);
        } else {
          for (const [sub, column] of Object.entries<string>(place)) {
            row[column] = inner === undefined ? null : ((inner as Record<string, SqlValue>)[sub] ?? null);
          }
        }
      }
      row[EXTRA] = JSON.stringify(extra);
      return row;
    },

    fromRow(row, issue) {
      let ok = true;
      const bad = (path: string, message: string): void => {
        issue(path, message);
        ok = false;
      };
      const extra = fromSql('json', row[EXTRA] ?? null, EXTRA, bad);
      if (extra !== INVALID && extra !== undefined && !isPlainObject(extra)) bad(EXTRA, `must be a JSON object, got ${describe(extra)}`);
      const stored: Record<string, unknown> = {};
      for (const [key, field] of fields) {
        const place = placements[key];
        if (place === undefined) {
          if (isPlainObject(extra) && Object.hasOwn(extra, key)) stored[key] = extra[key];
        } else if (typeof place === 'string') {
          const value = fromSql(codecOf(field).sql, row[place] ?? null, place, bad);
          if (value !== INVALID && value !== undefined && !(Object.hasOwn(implicit, key) && implicit[key] === value)) stored[key] = value;
        } else {
          const parts = Object.entries<string>(place);
          const set = parts.filter(([, column]) => row[column] !== null && row[column] !== undefined);
          if (set.length === parts.length) stored[key] = Object.fromEntries(parts.map(([sub, column]) => [sub, row[column]]));
          else if (set.length > 0) bad(parts.map(([, column]) => column).join(' and '), 'must be set together or all be NULL');
        }
      }
      const parsed = codec.parse(stored, '', { mode: 'read', issue: (path, message) => issue(columnPath(path), message) });
      return ok ? parsed : INVALID;
    },
  };
}

function toSql(kind: SqlKind, value: unknown): SqlValue {
  if (value === undefined) return null;
  if (kind === 'boolean') return value ? 1 : 0;
  if (kind === 'json') return jsonText(value);
  return value as SqlValue;
}

/**
 * Stored values are immutable and shared between a task's successive states (a definition never
 * changes once accepted), so one object's JSON is made once, not at every commit of its task.
 */
const jsonOfObject = new WeakMap<object, string>();

function jsonText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  let text = jsonOfObject.get(value);
  if (text === undefined) jsonOfObject.set(value, (text = JSON.stringify(value)));
  return text;
}

/** undefined for NULL: the field is absent (or gets its default). */
function fromSql(kind: SqlKind, value: SqlValue, column: string, bad: Issue): unknown {
  if (value === null) return undefined;
  if (kind === 'boolean') {
    if (value === 0 || value === 1) return value === 1;
    bad(column, `must be 0, 1 or NULL, got ${describe(value)}`);
    return INVALID;
  }
  if (kind !== 'json') return value;
  if (typeof value !== 'string') {
    bad(column, `must be JSON text, got ${describe(value)}`);
    return INVALID;
  }
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    bad(column, `is not valid JSON (${errorMessage(err)})`);
    return INVALID;
  }
}

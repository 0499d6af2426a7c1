import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

/** What better-sqlite3 executed in this process while counting. */
export interface SqlCounts {
  /** Prepared statements run (run, get, all, iterate) plus `exec` scripts. */
  statements: number;
  /** Transactions (`db.transaction` functions) entered, nested ones included. */
  transactions: number;
  /** Rows that `run` statements changed (SQLite's `changes`). */
  rowsChanged: number;
  /** Bytes of the values bound to `run` statements: the size of the rows the saver writes. */
  boundBytes: number;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Counts what every better-sqlite3 connection of this process executes, by wrapping the module's
 * Statement and Database methods: the saver's own statements, as it runs them, with no change to
 * the saver. `stop()` puts the methods back.
 */
export function countSql(): { readonly counts: SqlCounts; stop(): void } {
  const counts: SqlCounts = { statements: 0, transactions: 0, rowsChanged: 0, boundBytes: 0 };
  const probe = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, Method>;
  probe.close();
  const databaseProto = Database.prototype as unknown as Record<string, Method>;
  const restore: Array<() => void> = [];
  const wrap = (proto: Record<string, Method>, name: string, around: (original: Method) => Method): void => {
    const original = proto[name]!;
    proto[name] = around(original);
    restore.push(() => {
      proto[name] = original;
    });
  };
  for (const name of ['get', 'all', 'iterate']) {
    wrap(statementProto, name, (original) => function (this: unknown, ...args) {
      counts.statements++;
      return original.apply(this, args);
    });
  }
  wrap(statementProto, 'run', (original) => function (this: unknown, ...args) {
    counts.statements++;
    counts.boundBytes += args.reduce<number>((sum, a) => sum + bytesOf(a), 0);
    const info = original.apply(this, args) as { changes: number };
    counts.rowsChanged += info.changes;
    return info;
  });
  wrap(databaseProto, 'exec', (original) => function (this: unknown, ...args) {
    counts.statements++;
    return original.apply(this, args);
  });
  wrap(databaseProto, 'transaction', (original) => function (this: unknown, ...args) {
    const fn = original.apply(this, args) as Method & Record<string, Method>;
    const counted = function (this: unknown, ...inner: unknown[]) {
      counts.transactions++;
      return fn.apply(this, inner);
    };
    // The transaction's variants (deferred, immediate, exclusive) are counted the same way.
    for (const variant of ['deferred', 'immediate', 'exclusive'] as const) {
      const v = fn[variant]!;
      Object.defineProperty(counted, variant, {
        value: function (this: unknown, ...inner: unknown[]) {
          counts.transactions++;
          return v.apply(this, inner);
        },
      });
    }
    return counted;
  });
  return {
    counts,
    stop: () => {
      for (const undo of restore.reverse()) undo();
    },
  };
}

function bytesOf(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') return 8;
  if (Buffer.isBuffer(value)) return value.length;
  if (Array.isArray(value)) return value.reduce<number>((sum, v) => sum + bytesOf(v), 0);
  if (typeof value === 'object') return Object.values(value).reduce<number>((sum, v) => sum + bytesOf(v), 0);
  return 0;
}

/** This process's write syscalls and the bytes they wrote (Linux `/proc/self/io`: SQLite's WAL and checkpoint writes). */
export function processWrites(): { bytes: number; syscalls: number } {
  const io = readFileSync('/proc/self/io', 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? 0);
  return { bytes: field('wchar'), syscalls: field('syscw') };
}

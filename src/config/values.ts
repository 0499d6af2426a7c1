import { ConfigError } from '../errors.js';

/*
 * How a setting's raw text (a flag or an environment variable) becomes a value, or a ConfigError
 * that names the setting and quotes what was given. `undefined` (not given) is the fallback.
 */

export function yesNo(what: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${what} must be true, false, 1 or 0, got ${JSON.stringify(raw)}`);
}

export function wholeNumber(what: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < 0) throw new ConfigError(`${what} must be a whole number of at least 0, got ${JSON.stringify(raw)}`);
  return n;
}

/** A duration where `0` or `none` means no limit at all (0 in the config). */
export function optionalDuration(what: string, raw: string | undefined, fallback: number): number {
  if (raw !== undefined && raw.trim() === 'none') return 0;
  try {
    return duration(what, raw, fallback);
  } catch {
    throw new ConfigError(`${what} must be a duration like 30s, 10m or 1h, or 0 or none for no timeout, got ${JSON.stringify(raw)}`);
  }
}

export function positiveInt(what: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${what} must be a whole number of at least 1, got ${JSON.stringify(raw)}`);
  return n;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `30s`, `10m`, `1h`, `7d` (a bare number means seconds). */
export function duration(what: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!match) throw new ConfigError(`${what} must be a duration like 30s, 10m, 1h or 7d, got ${JSON.stringify(raw)}`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 's']!);
}

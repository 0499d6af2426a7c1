import { HttpError } from './http.js';

/** Rejects any query parameter not in `names`, so a typo is an error rather than silently ignored. */
export function allowOnly(url: URL, names: readonly string[]): void {
  const seen = new Set<string>();
  for (const key of url.searchParams.keys()) {
    if (!names.includes(key)) {
      throw new HttpError(400, 'InvalidQuery', `unknown query parameter ${JSON.stringify(key)}; allowed: ${names.join(', ') || 'none'}`);
    }
    if (seen.has(key)) throw new HttpError(400, 'InvalidQuery', `query parameter ${JSON.stringify(key)} is given more than once`);
    seen.add(key);
  }
}

export function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new HttpError(400, 'InvalidQuery', `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** True when the client asked for newline-delimited JSON (a stream) rather than one JSON document. */
export function wantsNdjson(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => part.split(';')[0]!.trim().toLowerCase() === 'application/x-ndjson');
}

/** A yes/no query parameter: absent, `0` or `false` is no; `1` or `true` is yes; anything else is refused. */
export function flagParam(url: URL, name: string): boolean {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new HttpError(400, 'InvalidQuery', `${name} must be true, false, 1 or 0, got ${JSON.stringify(raw)}`);
}

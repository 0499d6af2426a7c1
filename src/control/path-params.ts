import { HttpError } from './http.js';

/**
 * Matches a path against a route pattern whose `{name}` segments capture one segment each, and
 * answers the captures percent-decoded (a task ARN holds `/` and `:`, so clients encode it with
 * encodeURIComponent). Undefined when the path does not fit the pattern.
 */
export function matchPath(pattern: string, pathname: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = pathname.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    const capture = /^\{(\w+)\}$/.exec(segment);
    if (!capture) {
      if (segment !== got[i]) return undefined;
      continue;
    }
    if (got[i] === '') return undefined;
    try {
      params[capture[1]!] = decodeURIComponent(got[i]!);
    } catch {
      throw new HttpError(400, 'InvalidPath', `path segment ${JSON.stringify(got[i])} is not valid percent-encoding`);
    }
  }
  return params;
}

/** The table entry for a path: an exact one first, else the first pattern it fits. */
export function findRoute<T>(table: ReadonlyMap<string, T>, pathname: string): { entry: T; params: Record<string, string> } | undefined {
  const exact = table.get(pathname);
  if (exact) return { entry: exact, params: {} };
  for (const [pattern, entry] of table) {
    if (!pattern.includes('{')) continue;
    const params = matchPath(pattern, pathname);
    if (params) return { entry, params };
  }
  return undefined;
}

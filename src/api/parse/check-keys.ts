import { ValidationError } from '../../errors.js';
import { formatPath } from './issues.js';

/**
 * No valid task nests deeper than this (an ECS definition's deepest field, e.g.
 * `containerDefinitions[0].linuxParameters.capabilities.add[0]`, is 6 levels down); a deeper body
 * is refused before it is walked further.
 */
const MAX_DEPTH = 16;

/**
 * JSON.parse makes `__proto__` an ordinary key, but copying it into an object (as the schema does)
 * silently drops it: it is rejected outright, so what is validated is what is stored. The walk is
 * iterative and bounded, so a hostile body nested 100,000 deep cannot exhaust the stack.
 */
export function checkKeys(body: unknown): void {
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

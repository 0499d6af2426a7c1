/** 0.0.0.0 and :: bind every address of the host, so they overlap any other. */
const UNSPECIFIED: ReadonlySet<string> = new Set(['0.0.0.0', '::']);

/**
 * Whether one host port bound on both addresses would collide: the same address, or either one
 * unspecified. The parser applies it within a task, admission across tasks.
 */
export function hostAddressesOverlap(a: string, b: string): boolean {
  return a === b || UNSPECIFIED.has(a) || UNSPECIFIED.has(b);
}

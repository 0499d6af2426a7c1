import type { Random } from './clock.js';

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  /** Fraction of the delay that is randomised, 0..1 ("equal jitter" when 0.5). */
  readonly jitter: number;
}

/** Capped exponential backoff with jitter: the delay before retry number `attempt` (0-based). */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: Random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** attempt);
  const spread = base * policy.jitter;
  return Math.round(base - spread + random() * spread);
}

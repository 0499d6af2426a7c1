import { DockerUnavailableError, type BerthError } from '../errors.js';
import { backoffDelay, type BackoffPolicy } from '../util/backoff.js';
import type { Random } from '../util/clock.js';
import type { ActionKind } from './actions.js';

export type RetryDecision =
  | { readonly kind: 'retry'; readonly delayMs: number }
  /** The container cannot get further: it becomes STOPPED with the failure as its reason. */
  | { readonly kind: 'give-up' };

export interface RetryPolicy {
  readonly backoff: BackoffPolicy;
  /** Retries of a retryable pull, create or start before the container is given up. */
  readonly maxRetries: number;
}

/** Actions that bring a container up; failing them for good stops the container instead. */
const BRING_UP: ReadonlySet<ActionKind> = new Set(['pull', 'create', 'start']);

/**
 * What to do after an action failed for the `attempt`-th time (1-based). Pure.
 * - Docker being unreachable never gives a container up: nothing is known to have failed.
 * - Stop, inspect and cleanup are retried until they succeed: giving up would leave a container
 *   running that the agent believes stopped, or forget one that still exists.
 * - A bring-up action is retried while its error is retryable and the budget lasts.
 */
export function decideRetry(
  policy: RetryPolicy,
  action: ActionKind,
  error: unknown,
  attempt: number,
  random: Random,
): RetryDecision {
  const retry = (): RetryDecision => ({ kind: 'retry', delayMs: backoffDelay(policy.backoff, attempt - 1, random) });
  if (error instanceof DockerUnavailableError) return retry();
  if (!BRING_UP.has(action)) return retry();
  const retryable = (error as Partial<BerthError> | undefined)?.retryable === true;
  return retryable && attempt <= policy.maxRetries ? retry() : { kind: 'give-up' };
}

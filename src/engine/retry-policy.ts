import { DockerTimeoutError, DockerUnavailableError, type BerthError } from '../errors.js';
import { backoffDelay, type BackoffPolicy } from '../util/backoff.js';
import type { Random } from '../util/clock.js';
import type { ActionKind } from './actions.js';

export interface RetryPolicy {
  readonly backoff: BackoffPolicy;
  /** Retries of a retryable pull, create or start before the container is given up. */
  readonly maxRetries: number;
}

/** How often one container's action has failed so far. */
export interface RetryCount {
  /** Failures that count toward giving up (an outage does not). */
  readonly budgetUsed: number;
  /** Failures in a row of any kind; the backoff grows with it. */
  readonly streak: number;
}

export const NO_FAILURES: RetryCount = { budgetUsed: 0, streak: 0 };

export type RetryDecision =
  | { readonly kind: 'retry'; readonly delayMs: number; readonly count: RetryCount }
  /** The container cannot get further: it becomes STOPPED with the failure as its reason. */
  | { readonly kind: 'give-up' };

/** Actions that bring a container up; failing them for good stops the container instead. */
const BRING_UP: ReadonlySet<ActionKind> = new Set(['pull', 'create', 'start', 'provision-volume']);

/**
 * What to do after an action failed, given how often it failed before. Pure.
 * - Docker being unreachable or not answering in time never gives a container up, nor uses up its
 *   budget: nothing is known to have failed (a start that timed out may well have started it).
 * - Stop, inspect and cleanup are retried until they succeed: giving up would leave a container
 *   running that the agent believes stopped, or forget one that still exists.
 * - A bring-up action is retried while its error is retryable and the budget lasts, except a pull:
 *   the ImagePuller has already retried it with its own backoff, so its failure is final.
 */
export function decideRetry(
  policy: RetryPolicy,
  action: ActionKind,
  error: unknown,
  before: RetryCount,
  random: Random,
): RetryDecision {
  const retry = (budgetUsed: number): RetryDecision => ({
    kind: 'retry',
    delayMs: backoffDelay(policy.backoff, before.streak, random),
    count: { budgetUsed, streak: before.streak + 1 },
  });
  if (error instanceof DockerUnavailableError || error instanceof DockerTimeoutError || !BRING_UP.has(action)) return retry(before.budgetUsed);
  if (action === 'pull') return { kind: 'give-up' };
  const retryable = (error as Partial<BerthError> | undefined)?.retryable === true;
  return retryable && before.budgetUsed < policy.maxRetries ? retry(before.budgetUsed + 1) : { kind: 'give-up' };
}

import { describe, expect, it } from 'vitest';
import type { ActionKind } from '../../../src/engine/actions.js';
import { decideRetry, NO_FAILURES, type RetryCount, type RetryPolicy } from '../../../src/engine/retry-policy.js';
import { DockerApiError, DockerTimeoutError, DockerUnavailableError, ImageNotFoundError, ImagePullError } from '../../../src/errors.js';

const POLICY: RetryPolicy = { backoff: { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0 }, maxRetries: 2 };
const SPENT: RetryCount = { budgetUsed: 2, streak: 2 };

const decide = (action: ActionKind, error: Error, before: RetryCount = NO_FAILURES) => decideRetry(POLICY, action, error, before, () => 0.5);
const brief = (action: ActionKind, error: Error, before?: RetryCount): string => {
  const d = decide(action, error, before);
  return d.kind === 'give-up' ? 'give-up' : `retry in ${d.delayMs} ms, budget ${d.count.budgetUsed}, streak ${d.count.streak}`;
};

describe('decideRetry', () => {
  it.each<[string, ActionKind, Error, RetryCount, string]>([
    ['a failed pull gives up at once: the ImagePuller has retried it already', 'pull', new ImagePullError('img', 'reset'), NO_FAILURES, 'give-up'],
    ['a pull that found Docker unreachable is retried without using the budget', 'pull', new DockerUnavailableError('down'), SPENT, 'retry in 400 ms, budget 2, streak 3'],
    ['a retryable create error uses the budget', 'create', new DockerApiError('create', 500, 'boom'), NO_FAILURES, 'retry in 100 ms, budget 1, streak 1'],
    ['a retryable start error with the budget spent gives up', 'start', new DockerApiError('start', 500, 'boom'), SPENT, 'give-up'],
    ['a non-retryable error gives up at once', 'pull', new ImageNotFoundError('img'), NO_FAILURES, 'give-up'],
    ['an unreachable Docker never gives up nor uses the budget', 'start', new DockerUnavailableError('down'), SPENT, 'retry in 400 ms, budget 2, streak 3'],
    ['a start that timed out may have happened: never given up, budget untouched', 'start', new DockerTimeoutError('start', 1_000), SPENT, 'retry in 400 ms, budget 2, streak 3'],
    ['a create that timed out likewise', 'create', new DockerTimeoutError('create', 1_000), SPENT, 'retry in 400 ms, budget 2, streak 3'],
    ['stop is retried until it succeeds', 'stop', new DockerApiError('stop', 400, 'bad'), SPENT, 'retry in 400 ms, budget 2, streak 3'],
    ['the backoff is capped', 'inspect', new DockerApiError('inspect', 500, 'x'), { budgetUsed: 0, streak: 9 }, 'retry in 1000 ms, budget 0, streak 10'],
  ])('%s', (_name, action, error, before, expected) => {
    expect(brief(action, error, before)).toBe(expected);
  });
});

import { BerthError, ImagePullError, PullCancelledError } from '../../errors.js';

/**
 * Registry answers no retry changes: the image or tag does not exist, the reference is malformed,
 * or the registry refuses the credentials (Docker reports a 401 as a 500 with these words).
 */
const PERMANENT_REFUSAL =
  /\b(unauthorized|authentication required|no basic auth credentials|denied|manifest unknown|not found|does not exist|invalid reference format)\b/i;

/**
 * Whether another attempt of a failed pull may succeed: the one rule the ImagePuller retries by.
 * Network errors, registry 5xx answers, Docker being unreachable or slow, and the agent's own
 * pull timeouts are; a refusal that names a missing image or refused credentials, a cancel, and
 * anything that is not a BerthError are not.
 */
export function isRetryablePullError(error: unknown): boolean {
  if (error instanceof PullCancelledError) return false;
  if (error instanceof ImagePullError) {
    const status = (error.cause as { statusCode?: unknown } | undefined)?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429) return false;
    return !PERMANENT_REFUSAL.test(error.message);
  }
  return error instanceof BerthError && error.retryable;
}

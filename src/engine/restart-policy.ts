import { reason, type Reason } from '../api/reasons.js';
import type { ContainerState } from '../api/task.js';
import type { ContainerInfo } from '../docker/docker-client.js';

/**
 * ECS's container restart policy, as its agent decides it (RestartTracker.ShouldRestart): a
 * container that exits by itself, with an exit code not in `ignoredExitCodes`, is restarted in
 * place once it has run `restartAttemptPeriod` seconds since it started, or since it was last
 * restarted; so it restarts at most once per period. Pure: the clock comes in as `now`.
 */

export type RestartDecision =
  | { readonly kind: 'restart' }
  /** The exit is final. `why` (when the policy is enabled) is said in the container's stop reason. */
  | { readonly kind: 'final'; readonly why?: string };

/** The facts of one exit, as Docker reported them. */
export type Exit = Pick<ContainerInfo, 'exitCode' | 'startedAt'>;

const FINAL: RestartDecision = { kind: 'final' };

export function restartDecision(c: ContainerState, exit: Exit, now: number): RestartDecision {
  const policy = c.definition.restartPolicy;
  // A stop the task asked for is never undone: it also ends a restart still pending.
  if (!policy || c.desiredStatus === 'STOPPED') return FINAL;
  if (exit.exitCode === undefined) return { kind: 'final', why: 'Docker reported no exit code' };
  if (policy.ignoredExitCodes.includes(exit.exitCode)) {
    return { kind: 'final', why: `exit code ${exit.exitCode} is in its restartPolicy's ignoredExitCodes` };
  }
  const since = c.lastRestartAt ?? exit.startedAt ?? c.startedAt ?? now;
  const ranSeconds = Math.max(0, Math.floor((now - since) / 1000));
  if (ranSeconds < policy.restartAttemptPeriod) {
    const ran = c.lastRestartAt === undefined ? `it ran ${ranSeconds} s` : `it ran ${ranSeconds} s since its last restart`;
    return { kind: 'final', why: `${ran}, less than its restartAttemptPeriod of ${policy.restartAttemptPeriod} s` };
  }
  return { kind: 'restart' };
}

/**
 * True when Docker shows the very exit the last restart answered: the agent decided the restart
 * and saved it, then (killed, or between two looks) read the container again before Docker started
 * it. To the new incarnation that container has not run yet. Docker's own finishedAt tells an old
 * exit from a new one; the agent's clock is never compared with Docker's.
 */
export function isAnsweredExit(c: ContainerState, info: ContainerInfo): boolean {
  if ((c.restartCount ?? 0) === 0 || c.knownStatus !== 'CREATED') return false;
  if (info.state !== 'exited' && info.state !== 'dead') return false;
  // Without both times, an exit seen while the restart is still pending is the one it answers.
  if (info.finishedAt === undefined || c.lastFinishedAt === undefined) return true;
  return info.finishedAt <= c.lastFinishedAt;
}

/** The reason the incarnation that ended with a restart stopped, for its STOPPED event. */
export function restartReason(c: ContainerState): Reason {
  const code = c.lastExitCode === undefined ? '' : ` with exit code ${c.lastExitCode}`;
  return reason('ContainerRestarting', `container ${c.definition.name} exited${code}; its restartPolicy restarts it in place (restart ${c.restartCount ?? 0})`);
}

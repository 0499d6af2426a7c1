import type { StateChange } from '../../api/events.js';
import { reasonText } from './format.js';

/**
 * `agent events`: one line per change, fields in a fixed order so the eye (and grep) finds them:
 * time, seq, TASK/CONTAINER, arn, container, status, exit code, reason; `restart N` after the exit
 * code for a container its restartPolicy restarted (its incarnation).
 */
export function eventLine(e: StateChange): string {
  return [
    e.at,
    `#${e.seq}`,
    e.type === 'task' ? 'TASK     ' : 'CONTAINER',
    e.taskArn,
    e.containerName ?? '-',
    e.status.padEnd(7),
    e.exitCode === undefined ? 'exit -' : `exit ${e.exitCode}`,
    ...(e.restartCount ? [`restart ${e.restartCount}`] : []),
    reasonText(e.reason, e.reasonMessage),
  ].join('  ');
}

/** While `task apply --wait` follows one task, the ARN goes without saying. */
export function changeLine(e: StateChange): string {
  const what = e.type === 'task' ? 'task' : `container ${e.containerName ?? '?'}`;
  const exit = (e.exitCode === undefined ? '' : `  exit ${e.exitCode}`) + (e.restartCount ? `  restart ${e.restartCount}` : '');
  const why = e.reason ? `  ${reasonText(e.reason, e.reasonMessage)}` : '';
  return `${what} ${e.status}${exit}${why}`;
}

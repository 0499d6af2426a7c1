import type { StateChange } from '../../api/events.js';
import type { ReasonCode } from '../../api/reasons.js';
import type { TaskView } from '../../api/view.js';

/**
 * The status changes between two readings of a task, shaped like feed events (seq 0: they were
 * inferred, not read from the feed), so polling shows the same lines the event stream would.
 * Intermediate statuses passed between two polls are not invented.
 */
export function changesBetween(before: TaskView | undefined, after: TaskView): StateChange[] {
  const at = new Date().toISOString();
  const out: StateChange[] = [];
  for (const c of after.containers) {
    const was = before?.containers.find((b) => b.name === c.name);
    if (was?.knownStatus === c.knownStatus && was.restartCount === c.restartCount) continue;
    out.push({
      seq: 0,
      type: 'container',
      taskArn: after.arn,
      containerName: c.name,
      ...(c.dockerId ? { dockerId: c.dockerId } : {}),
      status: c.knownStatus,
      ...(c.exitCode === undefined ? {} : { exitCode: c.exitCode }),
      ...(c.reason ? { reason: c.reason as ReasonCode, reasonMessage: c.reasonMessage } : {}),
      portBindings: c.portBindings,
      ...(c.restartCount ? { restartCount: c.restartCount } : {}),
      at,
    });
  }
  if (before?.knownStatus !== after.knownStatus) {
    out.push({ seq: 0, type: 'task', taskArn: after.arn, status: after.knownStatus, at });
  }
  return out;
}

import type { ContainerView, TaskView } from '../../api/view.js';
import { age, exitText, ports, reasonText, restartsText, shortId, table, timeAgo } from './format.js';

/** `agent task ls`: one row per task, its containers summarized in one cell. */
export function taskTable(tasks: readonly TaskView[], now: number): string {
  if (tasks.length === 0) return 'no tasks';
  return table(
    ['arn', 'family:version', 'desired', 'known', 'containers', 'age'],
    tasks.map((t) => [
      t.arn,
      `${t.family}:${t.version}`,
      t.desiredStatus,
      t.reason ? `${t.knownStatus} (${t.reason})` : t.knownStatus,
      t.containers.map((c) => `${c.name}(${shortId(c.dockerId)} ${c.knownStatus}${c.exitCode === undefined ? '' : ` exit ${c.exitCode}`}${c.restartCount ? ` restarts ${c.restartCount}` : ''})`).join(' '),
      age(Date.parse(t.createdAt), now),
    ]),
  );
}

/** The containers of a task with what an operator needs to see why it stopped. */
export function containerTable(task: TaskView, indent = '  '): string {
  return table(
    ['container', 'docker id', 'known', 'desired', 'exit', 'restarts', 'reason'],
    task.containers.map((c) => [
      c.name,
      shortId(c.dockerId),
      c.knownStatus,
      c.desiredStatus,
      exitText(c.exitCode),
      restartsText(c.restartCount, c.lastExitCode),
      reasonText(c.reason, c.reasonMessage),
    ]),
    indent,
  );
}

/** `agent task inspect`: everything the agent knows about one task, one field per line. */
export function inspectView(t: TaskView, now: number): string {
  const out = [
    field('task', t.arn),
    field('family', `${t.family}:${t.version}`),
    field('status', `known ${t.knownStatus}, desired ${t.desiredStatus}`),
    field('created', timeAgo(t.createdAt, now)),
  ];
  if (t.stoppedAt) out.push(field('stopped', timeAgo(t.stoppedAt, now)));
  if (t.reason) out.push(field('reason', reasonText(t.reason, t.reasonMessage)));
  for (const c of t.containers) out.push('', ...containerLines(c, now));
  return out.join('\n');
}

function containerLines(c: ContainerView, now: number): string[] {
  const lines = [
    `container ${c.name}${c.essential ? '' : ' (not essential)'}`,
    field('image', c.image, '  '),
    field('docker id', c.dockerId ?? '- (not created yet)', '  '),
    field('docker name', c.dockerName, '  '),
    field('status', `known ${c.knownStatus}, desired ${c.desiredStatus}`, '  '),
    field('exit code', exitText(c.exitCode), '  '),
    field('restarts', restartsText(c.restartCount, c.lastExitCode), '  '),
    field('reason', reasonText(c.reason, c.reasonMessage), '  '),
    field('ports', ports(c.portBindings), '  '),
    field('created', timeAgo(c.createdAt, now), '  '),
    field('started', timeAgo(c.startedAt, now), '  '),
  ];
  if (c.finishedAt) lines.push(field('finished', timeAgo(c.finishedAt, now), '  '));
  if (c.lastRestartAt) lines.push(field('restarted', timeAgo(c.lastRestartAt, now), '  '));
  if (c.imageSource) lines.push(field('image from', imageFrom(c), '  '));
  return lines;
}

/** Where the container's image came from, and what it is: an operator's first question after a failed pull. */
function imageFrom(c: ContainerView): string {
  const what = [c.imageDigest, c.imageId && !c.imageDigest ? c.imageId : undefined].filter(Boolean).join(' ');
  const failure = c.imageSource === 'cached-after-failure' && c.pullFailure ? `; the pull failed: ${c.pullFailure}` : '';
  return `${c.imageSource}${what ? ` (${what})` : ''}${failure}`;
}

function field(name: string, value: string, indent = ''): string {
  return `${indent}${name.padEnd(14 - indent.length)}${value}`;
}

import { describe, expect, it } from 'vitest';
import { taskView } from '../../../src/api/view.js';
import { dumpDocument, formatDump, stuck } from '../../../src/cli/render/dump.js';
import { changeLine, eventLine } from '../../../src/cli/render/events.js';
import { containerTable, inspectView, taskTable } from '../../../src/cli/render/task.js';
import { changesBetween } from '../../../src/cli/wait/changes.js';
import { barLine, PLAIN_PROGRESS_INTERVAL_MS, progressDisplay } from '../../../src/cli/render/progress.js';
import type { PullProgressSnapshot } from '../../../src/engine/pull-progress.js';
import { taskAt } from '../../support/fixtures.js';
import { ANSI, Sink } from './support.js';

const snap = (over: Partial<PullProgressSnapshot> = {}): PullProgressSnapshot => ({
  taskArn: 'arn:t',
  containerName: 'web',
  image: 'registry:5000/app:1',
  status: 'Downloading',
  layers: { done: 1, total: 4 },
  current: 2_500_000,
  total: 10_000_000,
  done: false,
  waiting: false,
  ...over,
});

describe('pull progress', () => {
  it('draws a bar from bytes when Docker reports sizes, else from layers', () => {
    expect(barLine(snap(), 3)).toBe('web  [######..................]  25%  registry:5000/app:1  1/4 layers, 2.5 MB/10.0 MB');
    expect(barLine(snap({ current: 0, total: 0, layers: { done: 2, total: 4 } }), 3)).toContain('[############............]  50%');
    expect(barLine(snap({ done: true, result: 'pulled', status: 'Status: Downloaded newer image for registry:5000/app:1' }), 3)).toContain('100%  registry:5000/app:1  pulled');
  });

  it('shows a pull held back by the pull limit as waiting for a slot', () => {
    const waiting = snap({ waiting: true, status: 'Waiting for a pull slot', layers: { done: 0, total: 0 }, current: 0, total: 0 });
    expect(barLine(waiting, 3)).toBe('web  [........................]   0%  registry:5000/app:1  waiting for a pull slot');
    const out = new Sink(false);
    const display = progressDisplay(out, () => 0);
    display.progress(waiting);
    display.progress(waiting);
    display.progress(snap());
    expect(out.text.split('\n').filter(Boolean)).toEqual([
      'container web pulling registry:5000/app:1: waiting for a pull slot',
      'container web pulling registry:5000/app:1: 25% (1/4 layers, 2.5 MB/10.0 MB)',
    ]);
  });

  it('shows a failed pull as failed, not pulled', () => {
    expect(barLine(snap({ done: true, result: 'failed', status: 'Pulling', layers: { done: 0, total: 0 }, current: 0, total: 0 }), 3)).toContain('  0%  registry:5000/app:1  failed');
  });

  it('without a terminal prints at most one progress line per container per interval, and no ANSI', () => {
    let now = 0;
    const out = new Sink(false);
    const display = progressDisplay(out, () => now);
    display.progress(snap());
    display.progress(snap({ current: 5_000_000 }));
    display.progress(snap({ containerName: 'db' }));
    now += PLAIN_PROGRESS_INTERVAL_MS - 1;
    display.progress(snap({ current: 6_000_000 }));
    display.line('container web PULLED');
    now += 1;
    display.progress(snap({ current: 7_000_000 }));
    display.close();
    expect(out.text).not.toMatch(ANSI);
    expect(out.text.split('\n').filter(Boolean)).toEqual([
      'container web pulling registry:5000/app:1: 25% (1/4 layers, 2.5 MB/10.0 MB)',
      'container db pulling registry:5000/app:1: 25% (1/4 layers, 2.5 MB/10.0 MB)',
      'container web PULLED',
      'container web pulling registry:5000/app:1: 70% (1/4 layers, 7.0 MB/10.0 MB)',
    ]);
  });

  it('on a terminal keeps status lines above the bars and cuts bars to the width', () => {
    const out = new Sink(true, 40);
    const display = progressDisplay(out, () => 0);
    display.progress(snap());
    display.line('container web PULLED');
    display.close();
    const screen = out.text.split('\n');
    expect(out.text).toContain('\x1b[1A\r\x1b[J');
    expect(screen.every((l) => l.replace(/\x1b\[\d*[AJ]|\r/g, '').length <= 39)).toBe(true);
    expect(out.text.lastIndexOf('container web PULLED')).toBeLessThan(out.text.lastIndexOf('web  [######'));
  });
});

describe('stuck tasks', () => {
  const base = taskAt({ app: 'PULLED' }, { now: 1_000 });

  it('are not yet where they are headed and have not changed for the threshold', () => {
    expect(stuck(base, 1_000 + 299_999, 300_000)).toBeUndefined();
    expect(stuck(base, 1_000 + 420_000, 300_000)).toEqual({ forMs: 420_000, since: new Date(1_000).toISOString(), from: 'PULLED', to: 'RUNNING' });
    expect(stuck(taskAt({ app: 'RUNNING' }, { now: 1_000 }), 10_000_000, 300_000)).toBeUndefined();
    const stopping = taskAt({ app: 'RUNNING' }, { now: 1_000, desired: 'STOPPED' });
    expect(stuck(stopping, 10_000_000, 300_000)).toMatchObject({ from: 'RUNNING', to: 'STOPPED' });
  });

  it('are marked on the task line with how long', () => {
    const text = formatDump(
      { databasePath: '/db', schemaVersion: 2, meta: {}, config: undefined, tasks: [base], lastSeq: 0, eventCount: 0 },
      1_000 + 420_000,
      300_000,
    );
    expect(text).toContain('task arn:test:task/t1  web:1  known PULLED  desired RUNNING  health UNKNOWN  age 7m  STUCK 7m (PULLED -> RUNNING)');
    expect(text).toContain('configuration: the agent has not started on this database yet');
  });
});

describe('a task waiting for host resources', () => {
  const waiting = { ...taskAt({ app: 'NONE' }), waiting: { position: 1, message: 'needs 300 MiB memory, 0 CPU units; free: 200 MiB, 1024 CPU units' } };

  it('task ls marks its known status, and task inspect says what it waits for', () => {
    const view = taskView(waiting);
    expect(taskTable([view], 2_000)).toMatch(/RUNNING\s+NONE \(WaitingForResources\)\s+app\(- NONE\)/);
    expect(inspectView(view, 2_000)).toContain('reason        WaitingForResources: needs 300 MiB memory, 0 CPU units; free: 200 MiB, 1024 CPU units');
  });

  it('asked to stop, it no longer shows as waiting', () => {
    const view = taskView({ ...waiting, desiredStatus: 'STOPPED' });
    expect(view.reason).toBeUndefined();
    expect(inspectView(view, 2_000)).not.toContain('WaitingForResources');
  });
});

describe('where a container image came from', () => {
  it('task inspect says a cached image ran after a failed pull, with the digest and the failure', () => {
    const task = taskAt({ web: ['RUNNING', { imageSource: 'cached-after-failure', imageDigest: 'sha256:abc', imageId: 'sha256:def', pullFailure: 'pulling x failed: connection refused' }], side: ['RUNNING', { imageSource: 'pulled', imageId: 'sha256:123' }] });
    const lines = inspectView(taskView(task), 2_000).split('\n').filter((l) => l.startsWith('  image from'));
    expect(lines).toEqual(['  image from  cached-after-failure (sha256:abc); the pull failed: pulling x failed: connection refused', '  image from  pulled (sha256:123)']);
  });
});

describe('restarts in place', () => {
  const NOW = Date.parse('2026-12-01T12:00:00.000Z');
  const restarted = taskAt({ web: ['RUNNING', { restartCount: 2, lastExitCode: 3, lastRestartAt: NOW - 300_000, startedAt: NOW - 299_000 }], side: 'RUNNING' }, { now: NOW - 600_000 });
  const view = taskView(restarted);

  it('the task view carries the restart count, the last exit code and when it was restarted; a container never restarted has none', () => {
    expect(view.containers[0]).toMatchObject({ name: 'web', knownStatus: 'RUNNING', restartCount: 2, lastExitCode: 3, lastRestartAt: '2026-12-01T11:55:00.000Z' });
    expect(view.containers[0]).not.toHaveProperty('exitCode');
    for (const key of ['restartCount', 'lastExitCode', 'lastRestartAt']) expect(view.containers[1]).not.toHaveProperty(key);
  });

  it('agent task inspect, ls and the container table show them', () => {
    const inspect = inspectView(view, NOW);
    expect(inspect).toMatch(/^ {2}restarts {4}2 \(last exit 3\)$/m);
    expect(inspect).toMatch(/^ {2}restarted {3}2026-12-01T11:55:00\.000Z \(5m ago\)$/m);
    expect(inspect.split('\n').filter((l) => l.startsWith('  restarts'))).toEqual(['  restarts    2 (last exit 3)', '  restarts    0']);
    expect(taskTable([view], NOW)).toContain('web(776562000000 RUNNING restarts 2) side(736964650000 RUNNING)');
    expect(containerTable(view).split('\n')).toEqual([
      '  CONTAINER  DOCKER ID     KNOWN    DESIRED  EXIT  RESTARTS         REASON',
      '  web        776562000000  RUNNING  RUNNING  -     2 (last exit 3)  -',
      '  side       736964650000  RUNNING  RUNNING  -     0                -',
    ]);
  });

  it('agent state dump shows them in its container table and its JSON', () => {
    const input = { databasePath: '/db', schemaVersion: 3, meta: {}, config: undefined, tasks: [restarted], lastSeq: 0, eventCount: 0 };
    expect(formatDump(input, NOW, 300_000)).toMatch(/^ {2}web\s+776562000000\s+RUNNING\s+RUNNING\s+-\s+-\s+2 \(last exit 3\)\s+-\s+-$/m);
    expect(dumpDocument(input, NOW, 300_000).tasks[0]!.containers[0]).toMatchObject({ restartCount: 2, lastExitCode: 3 });
  });

  it('agent events shows the incarnation of a container event', () => {
    const e = { seq: 9, type: 'container' as const, taskArn: 'arn:t', containerName: 'web', status: 'STOPPED' as const, exitCode: 3, restartCount: 1, reason: 'ContainerRestarting' as const, reasonMessage: 'restarting', at: 'now' };
    expect(eventLine(e)).toBe('now  #9  CONTAINER  arn:t  web  STOPPED  exit 3  restart 1  ContainerRestarting: restarting');
    expect(changeLine(e)).toBe('container web STOPPED  exit 3  restart 1  ContainerRestarting: restarting');
  });

  it('polling (task apply --wait without the feed) reports a restart seen between two polls, though the status is the same', () => {
    const before = taskView(taskAt({ web: ['RUNNING', { restartCount: 1 }], side: 'RUNNING' }));
    expect(changesBetween(before, view).map((e) => [e.containerName, e.status, e.restartCount])).toEqual([['web', 'RUNNING', 2]]);
    expect(changesBetween(view, view)).toEqual([]);
  });
});

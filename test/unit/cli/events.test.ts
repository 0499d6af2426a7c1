import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { StateChange } from '../../../src/api/events.js';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { runCli } from '../../../src/cli/program.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';
import { at, cli, Sink, sqliteAgent } from './support.js';

let a: InProcessAgent;
afterEach(() => a.dispose());

async function agentWithRunningTask(saver = new MemorySaver()): Promise<number> {
  a = await new InProcessAgent({ saver }).start();
  await a.client.post('/v1/tasks', taskBody('arn:ev:one'));
  await a.untilStatus('arn:ev:one', 'RUNNING');
  return (await a.client.get<{ last: number }>('/v1/events?after=0')).body.last;
}

const parseLines = (text: string): StateChange[] => text.trim().split('\n').map((l) => JSON.parse(l) as StateChange);

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('agent events', () => {
  it('prints every kept event as a human line: time, seq, kind, arn, container, status, exit code, reason', async () => {
    const last = await agentWithRunningTask();
    const run = await cli(['events', ...at(a)]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(last);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z {2}#1 {2}CONTAINER {2}arn:ev:one {2}web {2}PULLED {3}exit - {2}-$/);
    expect(lines.at(-1)).toMatch(new RegExp(`Z  #${last}  TASK       arn:ev:one  -  RUNNING  exit -  -$`));
  });

  it('--json prints one object per line, and --after starts after that seq', async () => {
    const last = await agentWithRunningTask();
    a.docker.crash((await a.untilStatus('arn:ev:one', 'RUNNING')).containers[0]!.dockerId!, 137);
    await a.untilStatus('arn:ev:one', 'STOPPED');
    const run = await cli(['events', '--json', '--after', String(last), ...at(a)]);
    expect(run.code).toBe(0);
    const events = parseLines(run.stdout);
    expect(events[0]!.seq).toBe(last + 1);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => last + 1 + i));
    expect(events[0]).toMatchObject({ type: 'container', containerName: 'web', status: 'STOPPED', exitCode: 137, reason: 'ContainerExited' });
    const human = await cli(['events', '--after', String(last), ...at(a)]);
    expect(human.stdout).toMatch(/CONTAINER {2}arn:ev:one {2}web {2}STOPPED {2}exit 137 {2}ContainerExited: container web exited with exit code 137/);
  });

  it('pages through more events than one answer holds', async () => {
    a = await new InProcessAgent().start();
    for (let i = 0; i < 90; i++) await a.client.post('/v1/tasks', taskBody(`arn:ev:many-${i}`));
    await Promise.all(Array.from({ length: 90 }, (_, i) => a.untilStatus(`arn:ev:many-${i}`, 'RUNNING', 10_000)));
    const last = (await a.client.get<{ last: number }>('/v1/events?after=9')).body.last;
    expect(last).toBeGreaterThan(500);
    const events = parseLines((await cli(['events', '--json', ...at(a)])).stdout);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
    expect(events.length).toBeGreaterThan(500);
  }, 20_000);

  it('exits 8 with the agent\'s message when --after is past the feed or its events were pruned', async () => {
    const saver = new MemorySaver();
    const last = await agentWithRunningTask(saver);
    const ahead = await cli(['events', '--after', '9999', ...at(a)]);
    expect(ahead.code).toBe(EXIT.cursorGone);
    expect(ahead.stderr).toBe(`agent: cursor 9999 is ahead of the newest event (${last}); resync from GET /v1/tasks and resume from after=${last}\n`);

    await saver.pruneEvents({ keepLast: 2, olderThan: '1970-01-01T00:00:00.000Z' });
    const expired = await cli(['events', '--after', '0', '--json', ...at(a)]);
    expect(expired.code).toBe(EXIT.cursorGone);
    expect(expired.stderr).toContain('events after 0 are no longer kept (retention)');
    expect(JSON.parse(expired.stdout)).toMatchObject({ error: { code: 'CursorExpired', resumeAfter: last } });
  });

  it('without --after starts at the oldest event still kept', async () => {
    const saver = new MemorySaver();
    const last = await agentWithRunningTask(saver);
    await saver.pruneEvents({ keepLast: 2, olderThan: '1970-01-01T00:00:00.000Z' });
    const run = await cli(['events', '--json', ...at(a)]);
    expect(run.code).toBe(0);
    expect(parseLines(run.stdout).map((e) => e.seq)).toEqual([last - 1, last]);
  });

  it('--follow prints the backlog, then new events as they happen, until interrupted', async () => {
    const last = await agentWithRunningTask();
    const stdout = new Sink();
    const stderr = new Sink();
    const interrupt = new AbortController();
    const following = runCli(['events', '--follow', '--json', '--after', String(last - 1), ...at(a)], {
      stdout,
      stderr,
      env: {},
      signal: interrupt.signal,
    });
    await until(() => stdout.text.includes(`"seq":${last}`));
    await a.client.post('/v1/tasks', taskBody('arn:ev:two'));
    await until(() => stdout.text.includes('"taskArn":"arn:ev:two","status":"RUNNING"'));
    interrupt.abort();
    expect(await following).toBe(0);
    const events = parseLines(stdout.text);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => last + i));
    expect(stderr.text).toBe('');
  });

  it('--follow reconnects after the agent restarts and resumes from the last seq', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-cli-events-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    a = await sqliteAgent(dataDir);
    await a.client.post('/v1/tasks', taskBody('arn:ev:one'));
    await a.untilStatus('arn:ev:one', 'RUNNING');
    const last = (await a.client.get<{ last: number }>('/v1/events?after=0')).body.last;
    const stdout = new Sink();
    const stderr = new Sink();
    const interrupt = new AbortController();
    const following = runCli(['events', '--follow', '--json', '--after', String(last), '--data-dir', dataDir], {
      stdout,
      stderr,
      env: {},
      signal: interrupt.signal,
    });
    await new Promise((r) => setTimeout(r, 100));
    await a.dispose();
    await until(() => stderr.text.includes('cannot reach the agent'));
    a = await sqliteAgent(dataDir);
    await a.client.post('/v1/tasks', taskBody('arn:ev:after-restart'));
    await until(() => stdout.text.includes('"taskArn":"arn:ev:after-restart","status":"RUNNING"'));
    interrupt.abort();
    expect(await following).toBe(0);
    const events = parseLines(stdout.text);
    expect(events[0]!.seq).toBe(last + 1);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => last + 1 + i));
    expect(stderr.text).toContain('reconnected');
  });

  it('exits 3 when no agent answers', async () => {
    a = new InProcessAgent();
    const run = await cli(['events', '--socket', `${a.dir}/none.sock`]);
    expect(run.code).toBe(EXIT.unreachable);
  });
});

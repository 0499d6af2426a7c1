import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sinceTime } from '../../../src/cli/commands/logs.js';
import { IMAGE } from '../../support/fixtures.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';
import { at, cli } from './support.js';

const ARN = 'arn:test:task/logs-cli';

describe('agent logs', () => {
  let agent: InProcessAgent;
  let dockerId: string;

  beforeEach(async () => {
    agent = await new InProcessAgent().start();
    await agent.client.post('/v1/tasks', taskBody(ARN));
    dockerId = (await agent.untilStatus(ARN, 'RUNNING')).containers[0]!.dockerId!;
    agent.docker.writeLogs(dockerId, 'stdout', 'one\ntwo\n');
    agent.docker.writeLogs(dockerId, 'stderr', 'bad\n');
  });
  afterEach(() => agent.dispose());

  it('prints a one-container task without a name, stderr lines to stderr', async () => {
    const run = await cli(['logs', ARN, ...at(agent)]);
    expect(run).toEqual({ code: 0, stdout: 'one\ntwo\n', stderr: 'bad\n' });
    expect((await cli(['logs', ARN, 'web', '--tail', '1', ...at(agent)])).stderr).toBe('bad\n');
    const json = await cli(['logs', ARN, '--json', '--timestamps', '--tail', '2', ...at(agent)]);
    expect(json.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { stream: 'stdout', line: 'two', time: expect.any(String) },
      { stream: 'stderr', line: 'bad', time: expect.any(String) },
    ]);
    expect((await cli(['logs', ARN, '--timestamps', '--tail', '1', ...at(agent)])).stderr).toMatch(/^\d{4}-\S+Z bad\n$/);
  });

  it('follows until the container stops', async () => {
    const run = cli(['logs', ARN, '--follow', ...at(agent)]);
    await until(() => agent.docker.calls.some((c) => c.op === 'logs'));
    agent.docker.writeLogs(dockerId, 'stdout', 'three\n');
    agent.docker.crash(dockerId, 0);
    expect(await run).toEqual({ code: 0, stdout: 'one\ntwo\nthree\n', stderr: 'bad\n' });
  });

  it('asks for a name when the task has several containers, and reports an unknown one with the names', async () => {
    const arn = 'arn:test:task/two';
    await agent.client.post('/v1/tasks', {
      ...taskBody(arn),
      containers: [
        { name: 'web', image: IMAGE, command: ['sleep', '300'] },
        { name: 'side', image: IMAGE, command: ['sleep', '300'] },
      ],
    });
    const unnamed = await cli(['logs', arn, ...at(agent)]);
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toBe(`agent: task ${arn} has 2 containers; name one: web, side\n`);
    const unknown = await cli(['logs', arn, 'db', ...at(agent)]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain(`task ${arn} has no container "db"; its containers: web, side`);
    const noTask = await cli(['logs', 'arn:none', ...at(agent)]);
    expect(noTask.code).toBe(4);
    expect(noTask.stderr).toContain('no task with arn "arn:none"');
  });

  it('refuses a bad --tail or --since as a usage error', async () => {
    for (const flags of [['--tail', 'some'], ['--since', 'yesterday']]) {
      const run = await cli(['logs', ARN, ...flags, ...at(agent)]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(flags[0]);
    }
  });
});

describe('sinceTime', () => {
  it('counts a duration back from now and keeps an RFC3339 time', () => {
    expect(sinceTime('10m', Date.parse('2026-12-02T10:00:00Z'))).toBe('2026-12-02T09:50:00.000Z');
    expect(sinceTime('2026-12-02T09:00:00+01:00', 0)).toBe('2026-12-02T09:00:00+01:00');
  });
});

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

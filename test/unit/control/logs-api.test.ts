import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openNdjson } from '../../../src/cli/client/ndjson.js';
import { matchPath } from '../../../src/control/path-params.js';
import type { LogLine } from '../../../src/docker/log-lines.js';
import { IMAGE } from '../../support/fixtures.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';

const ARN = 'arn:aws:ecs:eu-west-1:1:task/c/logs-1';
const path = (arn: string, name: string, query = ''): string =>
  `/v1/tasks/${encodeURIComponent(arn)}/containers/${encodeURIComponent(name)}/logs${query}`;

describe('matchPath', () => {
  it('captures {name} segments percent-decoded, and refuses what does not fit', () => {
    expect(matchPath('/v1/tasks/{arn}/containers/{name}/logs', path(ARN, 'web'))).toEqual({ arn: ARN, name: 'web' });
    expect(matchPath('/v1/tasks/{arn}/containers/{name}/logs', '/v1/tasks/a/containers/b/stats')).toBeUndefined();
    expect(matchPath('/v1/tasks/{arn}/containers/{name}/logs', '/v1/tasks//containers/b/logs')).toBeUndefined();
    expect(matchPath('/v1/tasks/{arn}/containers/{name}/logs', '/v1/tasks/a/b/containers/c/logs')).toBeUndefined();
  });
});

describe('GET /v1/tasks/{arn}/containers/{name}/logs on the fake Docker', () => {
  let agent: InProcessAgent;
  let dockerId: string;

  beforeEach(async () => {
    agent = await new InProcessAgent().start();
    expect((await agent.client.post('/v1/tasks', taskBody(ARN))).status).toBe(201);
    const t = await agent.untilStatus(ARN, 'RUNNING');
    dockerId = t.containers[0]!.dockerId!;
  });
  afterEach(() => agent.dispose());

  async function read(query: string): Promise<LogLine[]> {
    const lines: LogLine[] = [];
    const stream = await openNdjson(agent.config.socketPath, path(ARN, 'web', query), (v) => lines.push(v as LogLine));
    const { error } = await stream.ended;
    expect(error).toBeUndefined();
    return lines;
  }

  it('answers what the container wrote, stdout and stderr apart, the last N, with Docker times', async () => {
    agent.docker.writeLogs(dockerId, 'stdout', 'one\ntwo\n');
    agent.docker.writeLogs(dockerId, 'stderr', 'oops\n');
    agent.docker.writeLogs(dockerId, 'stdout', 'three');
    expect(await read('')).toEqual([
      { stream: 'stdout', line: 'one' },
      { stream: 'stdout', line: 'two' },
      { stream: 'stderr', line: 'oops' },
      { stream: 'stdout', line: 'three' },
    ]);
    expect(await read('?tail=2')).toEqual([{ stream: 'stderr', line: 'oops' }, { stream: 'stdout', line: 'three' }]);
    const stamped = await read('?timestamps=1&tail=1');
    expect(stamped).toEqual([{ stream: 'stdout', line: 'three', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:]+\.\d{9}Z$/) }]);
    expect(await read(`?since=${new Date(Date.now() + 60_000).toISOString()}`)).toEqual([]);
    expect(await read('?since=0')).toHaveLength(4);
  });

  it('follows new output and ends when the container exits; the stopped container stays readable', async () => {
    agent.docker.writeLogs(dockerId, 'stdout', 'before\n');
    const lines: LogLine[] = [];
    const stream = await openNdjson(agent.config.socketPath, path(ARN, 'web', '?follow=true'), (v) => lines.push(v as LogLine));
    agent.docker.writeLogs(dockerId, 'stderr', 'after\n');
    await until(() => lines.length === 2);
    agent.docker.crash(dockerId, 3);
    expect(await stream.ended).toEqual({});
    expect(lines).toEqual([{ stream: 'stdout', line: 'before' }, { stream: 'stderr', line: 'after' }]);
    await agent.untilStatus(ARN, 'STOPPED');
    expect(await read('?follow=1')).toHaveLength(2);
  });

  it('names the task containers for an unknown one, and says so for an unknown task or bad query', async () => {
    const unknown = await agent.client.get<{ error: { code: string; message: string } }>(path(ARN, 'db'));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe(`task ${ARN} has no container "db"; its containers: web`);
    const noTask = await agent.client.get<{ error: { code: string } }>(path('arn:none', 'web'));
    expect(noTask.status).toBe(404);
    expect(noTask.body.error.code).toBe('TaskNotFound');
    for (const [query, word] of [['?tail=-1', 'tail'], ['?follow=yes', 'follow'], ['?since=yesterday', 'since'], ['?lines=3', 'lines']] as const) {
      const bad = await agent.client.get<{ error: { message: string } }>(path(ARN, 'web', query));
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toContain(word);
    }
  });

  it('answers 409 for a container Docker has not created yet, 404 once Docker removed it', async () => {
    let release!: () => void;
    agent.docker.delayNext('create', new Promise<void>((resolve) => (release = resolve)));
    const arn2 = 'arn:test:task/pending';
    await agent.client.post('/v1/tasks', { ...taskBody(arn2), containers: [{ name: 'web', image: IMAGE, command: ['sleep', '1'] }] });
    const early = await agent.client.get<{ error: { code: string; message: string } }>(path(arn2, 'web'));
    expect(early.status).toBe(409);
    expect(early.body.error.message).toMatch(/has no Docker container yet/);
    release();

    agent.docker.removeExternally(dockerId, { silently: true });
    const gone = await agent.client.get<{ error: { code: string } }>(path(ARN, 'web'));
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('ContainerGone');
  });
});

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}


import { afterEach, expect, it } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { PersistenceError } from '../../../src/errors.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';

let a: InProcessAgent;
afterEach(() => a.dispose());

it('starts while Docker is down, serves and saves tasks meanwhile (503 health), reports nothing stopped, and runs them once Docker answers', async () => {
  a = new InProcessAgent();
  a.docker.setUnavailable(true);
  await a.start({}, { actionRetryBackoff: { initialMs: 10, maxMs: 40, multiplier: 2, jitter: 0 }, eventStreamBackoff: { initialMs: 10, maxMs: 40, multiplier: 2, jitter: 0 } });
  expect((await a.client.get('/v1/health')).status).toBe(503);
  const posted = await a.client.post<TaskView>('/v1/tasks', taskBody('arn:outage'));
  expect(posted.status).toBe(201);
  expect((await a.saver.loadTasks()).map((t) => t.arn)).toEqual(['arn:outage']);
  await new Promise((r) => setTimeout(r, 150));
  const during = await a.client.get<TaskView>('/v1/tasks?taskarn=arn:outage');
  expect(during.body.knownStatus).toBe('NONE');
  expect(during.body.containers[0]!.reason).toBeUndefined();

  a.docker.setUnavailable(false);
  await a.untilStatus('arn:outage', 'RUNNING');
  expect((await a.client.get('/v1/health')).status).toBe(200);
});

it('a Docker outage while tasks run marks nothing STOPPED; afterwards state matches Docker', async () => {
  a = new InProcessAgent();
  await a.start({}, { eventStreamBackoff: { initialMs: 10, maxMs: 40, multiplier: 2, jitter: 0 } });
  await a.client.post('/v1/tasks', taskBody('arn:live'));
  const running = await a.untilStatus('arn:live', 'RUNNING');
  const seqBefore = (await a.client.get<{ last: number }>('/v1/events?after=0')).body.last;
  a.docker.setUnavailable(true);
  await new Promise((r) => setTimeout(r, 150));
  a.docker.setUnavailable(false);
  await new Promise((r) => setTimeout(r, 150));
  const after = await a.client.get<TaskView>('/v1/tasks?taskarn=arn:live');
  expect(after.body.knownStatus).toBe('RUNNING');
  expect(after.body.containers[0]!.dockerId).toBe(running.containers[0]!.dockerId);
  expect((await a.client.get<{ events: unknown[] }>(`/v1/events?after=${seqBefore}`)).body.events).toEqual([]);
});

it('while the database refuses writes: POST is 503 naming the cause, health is 503 on the database, and both recover', async () => {
  const saver = new MemorySaver();
  a = new InProcessAgent({ saver });
  await a.start({}, { actionRetryBackoff: { initialMs: 10, maxMs: 40, multiplier: 2, jitter: 0 } });
  saver.failWrites(new PersistenceError('committing state failed: database or disk is full (SQLITE_FULL)', { retryable: true }));
  const refused = await a.client.post<{ error: { code: string; message: string } }>('/v1/tasks', taskBody('arn:full'));
  expect(refused.status).toBe(503);
  expect(refused.body.error).toMatchObject({ code: 'PersistenceError', message: expect.stringContaining('SQLITE_FULL') });
  const health = await a.client.get<{ checks: { database: { ok: boolean; detail: string } } }>('/v1/health');
  expect(health.status).toBe(503);
  expect(health.body.checks.database).toEqual({ ok: false, detail: expect.stringMatching(/^writes failing for \d+ s \(since \d{4}-[\d:.TZ-]+\): .*SQLITE_FULL/) });

  saver.failWrites(undefined);
  expect((await a.client.post('/v1/tasks', taskBody('arn:full'))).status).toBe(201);
  await a.untilStatus('arn:full', 'RUNNING');
  expect((await a.client.get('/v1/health')).status).toBe(200);
});

it('starts on a database that refuses writes: it serves with 503 health, and health recovers by itself once writes return', async () => {
  const saver = new MemorySaver();
  await saver.setMeta('agent-id', 'agent-full-disk');
  saver.failWrites(new PersistenceError('saving meta failed: database or disk is full (SQLITE_FULL)', { retryable: true }));
  a = new InProcessAgent({ saver });
  await a.start();
  const health = await a.client.get<{ checks: { database: { ok: boolean; detail: string } } }>('/v1/health');
  expect(health.status).toBe(503);
  expect(health.body.checks.database.detail).toMatch(/^writes failing for \d+ s \(since \d{4}-[\d:.TZ-]+\): .*SQLITE_FULL/);
  expect((await a.client.get<{ agentId: string }>('/v1/metadata')).body.agentId).toBe('agent-full-disk');

  saver.failWrites(undefined);
  expect((await a.client.get('/v1/health')).status).toBe(200);
});

import { afterEach, describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { IMAGE } from '../../support/fixtures.js';
import { InProcessAgent } from '../../support/in-process-agent.js';

/* Host resources over the socket: a task that could never fit is refused at POST; one that waits shows why. */

type Refusal = { error: { code: string; message: string; issues: Array<{ path: string; message: string }> } };

let agent: InProcessAgent;
afterEach(async () => agent.dispose());

/** A 1-CPU, 1024 MiB host with 24 MiB kept back: 1000 MiB and 1024 CPU units for tasks. */
const SMALL_HOST = { host: { cpus: 1, memoryMiB: 1024 }, reservedMemoryMiB: 24 };

const task = (arn: string, container: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  arn,
  family: 'sized',
  revision: 1,
  containerDefinitions: [{ name: 'app', image: IMAGE, command: ['sleep', '300'], ...container }],
  ...extra,
});

describe('POST /v1/tasks and host resources', () => {
  it.each([
    ['container memory', task('arn:too-big', { memory: 1001 }), 'containerDefinitions', '1001 MiB of memory, more than the 1000 MiB this host has for tasks (its memory less --reserved-memory)'],
    ['task-level memory', task('arn:too-big', { memory: 64 }, { memory: '2GB' }), 'memory', 'the task needs 2048 MiB of memory'],
    ['task-level cpu', task('arn:too-big', {}, { cpu: '2 vCPU' }), 'cpu', 'the task needs 2048 CPU units, more than the 1024 this host has for tasks (its CPUs × 1024 less --reserved-cpu)'],
  ])('refuses with 400 a task whose %s could never fit, and keeps nothing', async (_what, body, path, message) => {
    agent = await new InProcessAgent().start({}, SMALL_HOST);
    const res = await agent.client.post<Refusal>('/v1/tasks', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidInput');
    expect(res.body.error.issues).toHaveLength(1);
    expect(res.body.error.issues[0]!.path).toBe(path);
    expect(res.body.error.issues[0]!.message).toContain(message);
    expect((await agent.client.get<{ tasks: TaskView[] }>('/v1/tasks')).body.tasks).toEqual([]);
  });

  it('a task that fits the host but not what is left answers 201 and waits, showing WaitingForResources in the views', async () => {
    agent = await new InProcessAgent().start({}, SMALL_HOST);
    expect((await agent.client.post('/v1/tasks', task('arn:first', { memory: 800 }))).status).toBe(201);
    await agent.untilStatus('arn:first', 'RUNNING');
    const second = await agent.client.post<TaskView>('/v1/tasks', task('arn:second', { memoryReservation: 300 }));
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({
      knownStatus: 'NONE',
      desiredStatus: 'RUNNING',
      reason: 'WaitingForResources',
      reasonMessage: 'needs 300 MiB memory, 0 CPU units; free: 200 MiB, 1024 CPU units',
    });
    const listed = await agent.client.get<TaskView>('/v1/tasks?taskarn=arn:second');
    expect(listed.body.reason).toBe('WaitingForResources');
    await agent.client.post('/v1/tasks', { arn: 'arn:first', desiredStatus: 'STOPPED' });
    const ran = await agent.untilStatus('arn:second', 'RUNNING');
    expect(ran.reason).toBeUndefined();
  });
});

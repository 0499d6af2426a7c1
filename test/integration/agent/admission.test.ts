import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { AgentProcess, docker } from '../../support/agent-process.js';
import { TEST_IMAGE } from '../global-setup.js';

/*
 * Host resource admission in the built agent on real Docker: --reserved-memory leaves 200 MiB for
 * tasks, so a second task waits for the first, across a restart of the agent.
 */

const RUN = `it${process.pid}-${Date.now()}`;
const FOR_TASKS_MIB = 200;
const dirs: string[] = [];
let agent: AgentProcess | undefined;

afterEach(async () => {
  const id = agent ? await agent.client.get<{ agentId: string }>('/v1/metadata').then((r) => r.body.agentId, () => undefined) : undefined;
  await agent?.stop('SIGTERM');
  agent = undefined;
  const left = id ? docker('ps', '-aq', '--filter', `label=berth.agent-id=${id}`) : '';
  for (const c of left ? left.split('\n') : []) docker('rm', '-f', c);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const sized = (arn: string, container: Record<string, unknown>) => ({
  arn,
  family: 'admission',
  revision: 1,
  containerDefinitions: [{ name: 'app', image: TEST_IMAGE, command: ['sleep', '600'], stopTimeout: 1, ...container }],
});

it('a task that does not fit waits (WaitingForResources), keeps waiting across a restart, and runs once the first task stops', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-it-admission-'));
  dirs.push(dir);
  const reserved = Math.floor(totalmem() / (1024 * 1024)) - FOR_TASKS_MIB;
  const start = async (): Promise<AgentProcess> => {
    const a = new AgentProcess(join(dir, 'data'), ['--reserved-memory', String(reserved)]);
    await a.start();
    return a;
  };
  agent = await start();
  const first = `arn:berth:task/${RUN}-first`;
  const second = `arn:berth:task/${RUN}-second`;

  const tooBig = await agent.client.post<{ error: { issues: Array<{ path: string; message: string }> } }>('/v1/tasks', sized(`arn:berth:task/${RUN}-huge`, { memory: FOR_TASKS_MIB + 1 }));
  expect(tooBig.status).toBe(400);
  expect(tooBig.body.error.issues[0]!.message).toContain(`more than the ${FOR_TASKS_MIB} MiB this host has for tasks`);

  expect((await agent.client.post('/v1/tasks', sized(first, { memory: 150 }))).status).toBe(201);
  await agent.waitForTask(first, (t) => t?.knownStatus === 'RUNNING');
  const posted = await agent.client.post<TaskView>('/v1/tasks', sized(second, { memoryReservation: 100 }));
  expect(posted.status).toBe(201);
  expect(posted.body).toMatchObject({ reason: 'WaitingForResources', reasonMessage: expect.stringContaining('needs 100 MiB memory') });
  await agent.waitForLog(/Task waiting for resources/);

  await agent.stop('SIGTERM');
  agent = await start();
  const after = await agent.task(second);
  expect(after).toMatchObject({ knownStatus: 'NONE', reason: 'WaitingForResources' });
  expect(after!.containers[0]!.dockerId).toBeUndefined();
  expect((await agent.task(first))?.knownStatus).toBe('RUNNING');

  await agent.client.post('/v1/tasks', { arn: first, desiredStatus: 'STOPPED' });
  const ran = await agent.waitForTask(second, (t) => t?.knownStatus === 'RUNNING');
  expect(ran!.reason).toBeUndefined();
  await agent.waitForLog(/Task admitted/);
});

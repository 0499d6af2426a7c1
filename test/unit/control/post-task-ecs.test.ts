import { afterEach, describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { IMAGE } from '../../support/fixtures.js';
import { InProcessAgent } from '../../support/in-process-agent.js';

type Answer = TaskView & { warnings: Array<{ path: string; message: string }> };
type Refusal = { error: { code: string; issues: Array<{ path: string; message: string }> } };

let agent: InProcessAgent;
afterEach(async () => agent.dispose());

const ecs = (extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}) => ({
  arn: 'arn:test:task/ecs-api',
  family: 'ecs-api',
  revision: 2,
  containerDefinitions: [{ name: 'web', image: IMAGE, command: ['sleep', '300'], memory: 64, ...container }],
  ...extra,
});

describe('POST /v1/tasks with an ECS task definition', () => {
  it('creates the task and answers with the warnings; the same body again answers 200 with them again', async () => {
    agent = await new InProcessAgent().start();
    const body = ecs({ executionRoleArn: 'arn:aws:iam::1:role/x', tags: [] });
    const first = await agent.client.post<Answer>('/v1/tasks', body);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ arn: 'arn:test:task/ecs-api', family: 'ecs-api', version: '2' });
    expect(first.body.warnings.map((w) => w.path)).toEqual(['executionRoleArn', 'tags']);
    await agent.untilStatus('arn:test:task/ecs-api', 'RUNNING');
    const again = await agent.client.post<Answer>('/v1/tasks', body);
    expect(again.status).toBe(200);
    expect(again.body.warnings).toEqual(first.body.warnings);
    expect(agent.docker.containerCount()).toBe(1);
  });

  it('answers warnings: [] for the short form and for a status change', async () => {
    agent = await new InProcessAgent().start();
    const short = { arn: 'arn:test:task/short', family: 'short', version: 1, containers: [{ name: 'web', image: IMAGE, command: ['sleep', '300'] }] };
    expect((await agent.client.post<Answer>('/v1/tasks', short)).body.warnings).toEqual([]);
    const stop = await agent.client.post<Answer>('/v1/tasks', { arn: 'arn:test:task/short', desiredStatus: 'STOPPED' });
    expect(stop.body).toMatchObject({ desiredStatus: 'STOPPED', warnings: [] });
  });

  it.each([
    ['awsvpc networking', ecs({ networkMode: 'awsvpc' }), 'networkMode'],
    ['secrets', ecs({}, { secrets: [{ name: 'A', valueFrom: 'arn:aws:ssm:::parameter/a' }] }), 'containerDefinitions[0].secrets'],
    ['a dependency cycle', ecs({ containerDefinitions: [{ name: 'a', image: IMAGE, dependsOn: [{ containerName: 'b', condition: 'START' }] }, { name: 'b', image: IMAGE, dependsOn: [{ containerName: 'a', condition: 'START' }] }] }), 'containerDefinitions[0].dependsOn'],
    ['HEALTHY on a container without a health check', ecs({ containerDefinitions: [{ name: 'a', image: IMAGE, dependsOn: [{ containerName: 'b', condition: 'HEALTHY' }] }, { name: 'b', image: IMAGE }] }), 'containerDefinitions[0].dependsOn[0].condition'],
    ['a privileged container', ecs({}, { privileged: true }), 'containerDefinitions[0].privileged'],
    ['a health check interval out of bounds', ecs({}, { healthCheck: { command: ['CMD-SHELL', 'true'], interval: 1 } }), 'containerDefinitions[0].healthCheck.interval'],
    ['a mount of an undeclared volume', ecs({}, { mountPoints: [{ sourceVolume: 'nope', containerPath: '/data' }] }), 'containerDefinitions[0].mountPoints[0].sourceVolume'],
  ])('refuses %s with 400 naming the field, and changes nothing', async (_what, body, path) => {
    agent = await new InProcessAgent().start();
    const res = await agent.client.post<Refusal>('/v1/tasks', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidInput');
    expect(res.body.error.issues.map((i) => i.path)).toContain(path);
    expect(await agent.saver.loadTasks()).toEqual([]);
    expect(agent.docker.containerCount()).toBe(0);
    expect((await agent.client.get<{ tasks: TaskView[] }>('/v1/tasks')).body.tasks).toEqual([]);
  });

  it('runs a privileged container when the agent was started with --allow-privileged', async () => {
    agent = await new InProcessAgent().start({ allowPrivileged: true });
    const res = await agent.client.post<Answer>('/v1/tasks', ecs({}, { privileged: true }));
    expect(res.status).toBe(201);
    await agent.untilStatus('arn:test:task/ecs-api', 'RUNNING');
  });
});

import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StateChange } from '../../../src/api/events.js';
import type { TaskView } from '../../../src/api/view.js';
import type { SourceStatus } from '../../../src/sources/source-status.js';
import { openSqliteSaver } from '../../../src/state/sqlite-saver.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';

let agents: InProcessAgent[] = [];
afterEach(async () => {
  for (const a of agents) await a.dispose();
  agents = [];
});

async function boot(flags: Parameters<InProcessAgent['start']>[0] = {}, a = new InProcessAgent()): Promise<InProcessAgent> {
  agents.push(a);
  return a.start(flags);
}

const sources = async (a: InProcessAgent): Promise<SourceStatus[]> => (await a.client.get<{ sources: SourceStatus[] }>('/v1/sources')).body.sources;
const put = (a: InProcessAgent, name: string, tasks: unknown[]) => a.client.send<Record<string, unknown>>('PUT', `/v1/sources/${name}/tasks`, { tasks });

async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await get();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('PUT /v1/sources/{name}/tasks', () => {
  it('sets a pushed source: its tasks run, a task left out of the next PUT is stopped, the same PUT again changes nothing', async () => {
    const a = await boot();
    const res = await put(a, 'fleet', [taskBody('arn:s:task/a'), taskBody('arn:s:task/b')]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source: { name: 'fleet', kind: 'pushed', taskCount: 2 }, changed: ['arn:s:task/a', 'arn:s:task/b'] });
    await a.untilStatus('arn:s:task/a', 'RUNNING');
    const view = await a.untilStatus('arn:s:task/b', 'RUNNING');
    expect(view.source).toBe('fleet');

    expect((await put(a, 'fleet', [taskBody('arn:s:task/a')])).body).toMatchObject({ changed: ['arn:s:task/b'] });
    await a.untilStatus('arn:s:task/b', 'STOPPED');
    expect((await put(a, 'fleet', [taskBody('arn:s:task/a')])).body).toMatchObject({ changed: [] });
    expect((await a.client.get<TaskView>('/v1/tasks?taskarn=arn%3As%3Atask%2Fa')).body.desiredStatus).toBe('RUNNING');
  });

  it('refuses a bad item naming its index and field, and changes nothing', async () => {
    const a = await boot();
    await put(a, 'fleet', [taskBody('arn:s:task/a')]);
    const bad = { ...taskBody('arn:s:task/c'), containers: [{ name: 'web', image: '' }] };
    const res = await put(a, 'fleet', [taskBody('arn:s:task/b'), taskBody('arn:s:task/a'), bad]);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'InvalidInput', message: expect.stringMatching(/^tasks\[2\]\.containers\[0\]\.image: /) } });
    const dup = await put(a, 'fleet', [taskBody('arn:s:task/a'), taskBody('arn:s:task/a')]);
    expect(dup).toMatchObject({ status: 400, body: { error: { message: 'tasks[1].arn: duplicates the arn of tasks[0]' } } });
    const statusOnly = await put(a, 'fleet', [{ arn: 'arn:s:task/a', desiredStatus: 'STOPPED' }]);
    expect(statusOnly).toMatchObject({ status: 400, body: { error: { message: 'tasks[0]: must be a task definition, not a desired status alone' } } });
    expect((await a.client.send('PUT', '/v1/sources/fleet/tasks', { task: [] })).body).toMatchObject({ error: { message: 'tasks: must be an array of task definitions' } });
    expect((await sources(a)).find((s) => s.name === 'fleet')).toMatchObject({ taskCount: 1, tasks: [{ arn: 'arn:s:task/a' }] });
    expect((await a.client.get<{ tasks: TaskView[] }>('/v1/tasks')).body.tasks.map((t) => t.arn)).toEqual(['arn:s:task/a']);
  });

  it('refuses a bad source name (400) and a watched one (409), naming why', async () => {
    const a = await boot();
    expect((await put(a, 'Fleet', [])).body).toMatchObject({ error: { code: 'InvalidSourceName', message: expect.stringContaining('^[a-z][a-z0-9-]{0,62}$') } });
    for (const name of ['manifests', 'etcd']) {
      const res = await put(a, name, []);
      expect(res).toMatchObject({ status: 409, body: { error: { code: 'SourceWatched', message: expect.stringContaining(`source ${name} is read by the agent itself`) } } });
    }
    expect((await a.client.send('POST', '/v1/sources/fleet/tasks', { tasks: [] })).status).toBe(405);
  });
});

describe('POST /v1/tasks as the api source, and conflicts', () => {
  it('answers as before: 201 new, 200 known, 200 and a new generation for a changed definition, 404 a desired status for an unknown arn', async () => {
    const a = await boot();
    const created = await a.client.post<TaskView>('/v1/tasks', taskBody('arn:s:task/a'));
    expect(created).toMatchObject({ status: 201, body: { arn: 'arn:s:task/a', source: 'api' } });
    expect((await a.client.post('/v1/tasks', taskBody('arn:s:task/a'))).status).toBe(200);
    expect(await a.client.post('/v1/tasks', taskBody('arn:s:task/a', { family: 'other' }))).toMatchObject({
      status: 200,
      body: { arn: 'arn:s:task/a', family: 'other', generation: 2, source: 'api' },
    });
    expect((await a.client.post('/v1/tasks', { arn: 'arn:s:task/none', desiredStatus: 'STOPPED' })).status).toBe(404);
    expect((await sources(a)).find((s) => s.name === 'api')?.tasks).toEqual([{ arn: 'arn:s:task/a', origin: 'POST /v1/tasks', state: 'applied' }]);
  });

  it('a pushed source claiming an api task is a conflict on both, in views and events; and a claim on an arn another source owns is a 409 for the api', async () => {
    const a = await boot();
    await a.client.post('/v1/tasks', taskBody('arn:s:task/a'));
    await put(a, 'fleet', [taskBody('arn:s:task/a')]);
    const conflict = { arn: 'arn:s:task/a', owner: 'api', claimants: ['api', 'fleet'] };
    const all = await sources(a);
    expect(all.find((s) => s.name === 'api')).toMatchObject({ conflicts: [conflict], tasks: [{ state: 'applied' }] });
    expect(all.find((s) => s.name === 'fleet')).toMatchObject({ conflicts: [conflict], tasks: [{ state: 'conflict', owner: 'api' }] });
    const view = await until(() => a.untilStatus('arn:s:task/a', 'RUNNING'), (v) => v.conflicts !== undefined, 'the conflict on the task');
    expect(view).toMatchObject({ source: 'api', conflicts: ['fleet'] });
    const events = (await a.client.get<{ events: StateChange[] }>('/v1/events?after=0')).body.events;
    expect(events.filter((e) => e.reason === 'SourceConflict')).toEqual([
      expect.objectContaining({ type: 'task', taskArn: 'arn:s:task/a', reasonMessage: 'also claimed by fleet; api keeps it' }),
    ]);

    // The api's own claim is a 409 while fleet owns it the other way round.
    await put(a, 'other', [taskBody('arn:s:task/b')]);
    const refused = await a.client.post('/v1/tasks', taskBody('arn:s:task/b'));
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'SourceConflict', message: expect.stringContaining('belongs to source other') } } });
  });
});

describe('the manifests source in the agent', () => {
  it('runs the directory\'s tasks, reports a bad file in GET /v1/sources, and removes a deleted file\'s task', async () => {
    const a = new InProcessAgent();
    const dir = join(a.dir, 'manifests');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.json'), JSON.stringify(taskBody('arn:s:task/a')));
    writeFileSync(join(dir, 'bad.yaml'), 'family: web\nversion: 1\ncontainers: []\n');
    await boot({ manifests: dir }, a);
    expect((await a.untilStatus('arn:s:task/a', 'RUNNING')).source).toBe('manifests');
    const status = (await sources(a)).find((s) => s.name === 'manifests');
    expect(status).toMatchObject({ kind: 'watched', taskCount: 1, errors: [{ origin: 'bad.yaml', message: expect.stringContaining('containers') }] });
    unlinkSync(join(dir, 'a.json'));
    await a.untilStatus('arn:s:task/a', 'STOPPED');
  });

  it('after a restart a file deleted while the agent was down is stopped at the first scan; the others run on as they were', async () => {
    const first = new InProcessAgent();
    agents.push(first);
    const dir = join(first.dir, 'manifests');
    mkdirSync(dir);
    const saverPath = join(first.dir, 'state.db');
    writeFileSync(join(dir, 'a.json'), JSON.stringify(taskBody('arn:s:task/a')));
    writeFileSync(join(dir, 'b.json'), JSON.stringify(taskBody('arn:s:task/b')));
    const one = await boot({ manifests: dir }, new InProcessAgentAt(first, saverPath));
    const before = await one.untilStatus('arn:s:task/a', 'RUNNING');
    await one.untilStatus('arn:s:task/b', 'RUNNING');
    await one.agent!.sources.idle();
    await one.stop();

    unlinkSync(join(dir, 'b.json'));
    const two = new InProcessAgentAt(first, saverPath);
    await two.start({ manifests: dir });
    await two.untilStatus('arn:s:task/b', 'STOPPED');
    expect((await two.untilStatus('arn:s:task/a', 'RUNNING')).containers[0]!.dockerId).toBe(before.containers[0]!.dockerId);
    const events = (await two.client.get<{ events: StateChange[] }>('/v1/events?after=0')).body.events;
    // One RUNNING for a, from the first run: the restart did not add it again.
    expect(events.filter((e) => e.type === 'task' && e.taskArn === 'arn:s:task/a' && e.status === 'RUNNING')).toHaveLength(1);
    await two.stop();
  });
});

/** An agent on a SQLite file in `base`'s directory and on its Docker, so a second one is a restart. */
class InProcessAgentAt extends InProcessAgent {
  constructor(base: InProcessAgent, path: string) {
    super({ docker: base.docker, saver: openSqliteSaver(path) });
    Object.defineProperty(this, 'dir', { value: base.dir });
  }
}

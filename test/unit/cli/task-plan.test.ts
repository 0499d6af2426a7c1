import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/cli/exit-codes.js';
import type { TaskView } from '../../../src/api/view.js';
import { IMAGE } from '../../support/fixtures.js';
import { InProcessAgent } from '../../support/in-process-agent.js';
import { at, cli, NO_RETRIES, writeFile } from './support.js';

let a: InProcessAgent;
beforeEach(async () => {
  a = await new InProcessAgent().start({}, NO_RETRIES);
});
afterEach(async () => {
  await a.dispose();
});

const ARN = 'arn:plan:web';
const container = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, image: IMAGE, command: ['sleep', '300'], ...extra });
const task = (containers: Record<string, unknown>[]): Record<string, unknown> => ({ arn: ARN, family: 'web', version: 1, containers });
const first = task([container('db'), container('app', { environment: { MODE: 'old' } }), container('side', { essential: false })]);
const second = task([container('db'), container('app', { environment: { MODE: 'new' }, command: ['sleep', '301'] }), container('extra')]);

describe('agent task plan', () => {
  it('shows a new task as all created', async () => {
    const run = await cli(['task', 'plan', '-f', writeFile(a, 'first.json', first), ...at(a)]);
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(run.stdout).toBe(['plan for arn:plan:web: new task, generation 1', '  create    db', '  create    app', '  create    side', ''].join('\n'));
  });

  it('shows what a changed definition would do, field by field, and changes nothing', async () => {
    expect((await cli(['task', 'apply', '-f', writeFile(a, 'first.json', first), '--wait', ...at(a)])).code).toBe(EXIT.ok);
    const before = (await a.client.get<TaskView>(`/v1/tasks?taskarn=${ARN}`)).body;
    const run = await cli(['task', 'plan', '-f', writeFile(a, 'second.json', second), ...at(a)]);
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(run.stdout).toBe(
      [
        'plan for arn:plan:web: generation 1 → 2',
        '  keep      db',
        '  recreate  app',
        '              command[1]: "300" → "301"',
        '              environment.MODE: "old" → "new"',
        '  create    extra',
        '  stop      side',
        '',
      ].join('\n'),
    );
    const json = await cli(['task', 'plan', '-f', writeFile(a, 'second.json', second), '--json', ...at(a)]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      arn: ARN,
      currentGeneration: 1,
      generation: 2,
      containers: [
        { name: 'db', action: 'keep' },
        { name: 'app', action: 'recreate', diff: [{ path: 'container.command[1]', old: '300', new: '301' }, { path: 'container.environment.MODE', old: 'old', new: 'new' }] },
        { name: 'extra', action: 'create' },
        { name: 'side', action: 'stop' },
      ],
    });
    const after = (await a.client.get<TaskView>(`/v1/tasks?taskarn=${ARN}`)).body;
    expect(after).toEqual(before);
    expect(after.generation).toBe(1);
  });

  it('says when the definition is the same', async () => {
    expect((await cli(['task', 'apply', '-f', writeFile(a, 'first.json', first), ...at(a)])).code).toBe(EXIT.ok);
    const run = await cli(['task', 'plan', '-f', writeFile(a, 'first.json', first), ...at(a)]);
    expect(run.stdout).toBe(['plan for arn:plan:web: same definition, generation 1: nothing to do', '  keep      db', '  keep      app', '  keep      side', ''].join('\n'));
  });
});

describe('POST /v1/tasks/plan', () => {
  it('answers 400 naming the field for a bad definition, and for a bare status change', async () => {
    const bad = await a.client.post<{ error: { issues: { path: string }[] } }>('/v1/tasks/plan', { arn: ARN, containers: [{ name: 'x' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i) => i.path)).toContain('containers[0].image');
    const bare = await a.client.post('/v1/tasks/plan', { arn: ARN, desiredStatus: 'STOPPED' });
    expect(bare).toMatchObject({ status: 400, body: { error: { code: 'InvalidPlan' } } });
    expect((await a.client.get<{ tasks: unknown[] }>('/v1/tasks')).body.tasks).toEqual([]);
  });
});

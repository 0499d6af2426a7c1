import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { StateDocument } from '../../../src/api/export/state-document.js';
import type { TaskView } from '../../../src/api/view.js';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { openSqliteSaver } from '../../../src/state/sqlite-saver.js';
import { bareTask } from '../../contract/saver.contract.js';
import { IMAGE } from '../../support/fixtures.js';
import { insertRows, tamper } from '../../support/sqlite-tamper.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';
import { cli } from './support.js';

let root: string;
let agents: InProcessAgent[];
let docker: FakeDocker;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'berth-cli-transfer-'));
  agents = [];
  docker = new FakeDocker({ images: [IMAGE] });
});
afterEach(async () => {
  for (const a of agents) await a.dispose();
  rmSync(root, { recursive: true, force: true });
});

/** An agent on `<root>/<name>/state.db`, on the one fake Docker every agent of a test shares. */
async function agentOn(name: string): Promise<InProcessAgent> {
  const dataDir = join(root, name);
  const a = await new InProcessAgent({ docker, saver: openSqliteSaver(join(dataDir, 'state.db')) }).start({ dataDir });
  agents.push(a);
  return a;
}

/** Two tasks RUNNING on an agent in `<root>/old`, which is then stopped (its containers keep running). */
async function oldAgentWithTwoTasks(): Promise<{ agentId: string }> {
  const a = await agentOn('old');
  await a.client.post('/v1/tasks', taskBody('arn:move:one'));
  await a.client.post('/v1/tasks', { arn: 'arn:move:two', family: 'db', revision: 2, containerDefinitions: [{ name: 'db', image: IMAGE, healthCheck: { command: ['CMD', 'true'] } }, { name: 'side', image: IMAGE, essential: false }] });
  await a.untilStatus('arn:move:one', 'RUNNING');
  await a.untilStatus('arn:move:two', 'RUNNING');
  const agentId = a.agent!.agentId;
  await a.stop();
  return { agentId };
}

const dockerIds = async (): Promise<string[]> => (await docker.listContainers({})).map((c) => c.id).sort();
const dir = (name: string): string => join(root, name);

describe('agent state export', () => {
  it('writes the tasks, their desired status and source, and the agent ID as YAML by default, or JSON', async () => {
    const { agentId } = await oldAgentWithTwoTasks();
    const yaml = await cli(['state', 'export', '--data-dir', dir('old')]);
    expect(yaml).toMatchObject({ code: 0, stderr: '' });
    const doc = parse(yaml.stdout) as StateDocument;
    expect(doc).toMatchObject({ kind: 'berth/agent-state', version: 1, agentId, exportedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(doc.tasks).toEqual([
      { source: 'api', definition: { arn: 'arn:move:one', family: 'api', version: '3', desiredStatus: 'RUNNING', containers: [{ name: 'web', image: IMAGE, command: ['sleep', '300'], portMappings: [{ containerPort: 80 }] }] } },
      {
        source: 'api',
        definition: {
          arn: 'arn:move:two',
          family: 'db',
          revision: 2,
          desiredStatus: 'RUNNING',
          containerDefinitions: [
            { name: 'db', image: IMAGE, healthCheck: { command: ['CMD', 'true'], interval: 30, timeout: 5, retries: 3, startPeriod: 0 } },
            { name: 'side', image: IMAGE, essential: false },
          ],
        },
      },
    ]);
    expect(await cli(['state', 'export', '--json', '--yaml', '--data-dir', dir('old')])).toMatchObject({ code: EXIT.usage, stderr: 'agent: give --json or --yaml, not both\n' });
    const json = await cli(['state', 'export', '--json', '--data-dir', dir('old')]);
    expect({ ...(JSON.parse(json.stdout) as StateDocument), exportedAt: '' }).toEqual({ ...doc, exportedAt: '' });
  });

  it('-o writes the document to a file only its owner can read', async () => {
    await oldAgentWithTwoTasks();
    const out = join(root, 'state.yaml');
    writeFileSync(out, 'old', { mode: 0o644 });
    const run = await cli(['state', 'export', '--data-dir', dir('old'), '-o', out]);
    expect(run).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect((parse(readFileSync(out, 'utf8')) as StateDocument).tasks).toHaveLength(2);
  });

  it('names on stderr each task whose rows cannot be read, and leaves it out', async () => {
    await oldAgentWithTwoTasks();
    const raw = tamper(join(dir('old'), 'state.db'));
    insertRows(raw, bareTask('arn:move:half'), (rows) => void (rows.containers = []));
    raw.close();
    const run = await cli(['state', 'export', '--json', '--data-dir', dir('old')]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('agent: task arn:move:half cannot be read and is not in the export (see `agent state dump`)\n');
    expect((JSON.parse(run.stdout) as StateDocument).tasks.map((t) => t.definition.arn)).toEqual(['arn:move:one', 'arn:move:two']);
  });

  it('refuses a directory no agent has started on', async () => {
    const saver = openSqliteSaver(join(dir('blank'), 'state.db'));
    await saver.close();
    const run = await cli(['state', 'export', '--data-dir', dir('blank')]);
    expect(run.code).toBe(EXIT.state);
    expect(run.stderr).toBe(`agent: ${dir('blank')} has no agent ID: no agent has started on it, so there is nothing to export\n`);
  });
});

describe('agent state restore', () => {
  async function exported(): Promise<{ file: string; agentId: string }> {
    const old = await oldAgentWithTwoTasks();
    const file = join(root, 'state.yaml');
    expect((await cli(['state', 'export', '--data-dir', dir('old'), '-o', file])).code).toBe(0);
    return { file, ...old };
  }

  it('recreates the tasks under the same agent ID in an empty directory; the agent started there adopts every container, creating none', async () => {
    const { file, agentId } = await exported();
    const mark = docker.calls.length;
    const run = await cli(['state', 'restore', file, '--data-dir', dir('new')]);
    expect(run).toEqual({
      code: 0,
      stdout: `restored 2 task(s) under agent ID ${agentId} into ${dir('new')}; \`agent run --data-dir ${dir('new')}\` adopts their containers\n`,
      stderr: '',
    });
    const idsBefore = await dockerIds();
    expect(idsBefore).toHaveLength(3);
    const a = await agentOn('new');
    expect(a.agent!.agentId).toBe(agentId);
    const one = await a.untilStatus('arn:move:one', 'RUNNING');
    const two = await a.untilStatus('arn:move:two', 'RUNNING');
    expect(await dockerIds()).toEqual(idsBefore);
    expect([...one.containers, ...two.containers].map((c) => c.dockerId).sort()).toEqual(idsBefore);
    // None was started again either: each was found running and adopted as it was.
    expect(docker.calls.slice(mark).filter((c) => c.op === 'start')).toEqual([]);
  });

  it("carries each task's source over: the restored agent's sources own them, and a source's next SET applies to its own tasks only", async () => {
    const old = await agentOn('old');
    await old.client.post('/v1/tasks', taskBody('arn:move:api'));
    expect((await old.client.send('PUT', '/v1/sources/ci/tasks', { tasks: [taskBody('arn:move:ci')] })).status).toBe(200);
    await old.untilStatus('arn:move:api', 'RUNNING');
    await old.untilStatus('arn:move:ci', 'RUNNING');
    await old.stop();
    const file = join(root, 'state.yaml');
    expect((await cli(['state', 'export', '--data-dir', dir('old'), '-o', file])).code).toBe(0);
    expect((parse(readFileSync(file, 'utf8')) as StateDocument).tasks.map((t) => [t.definition.arn, t.source])).toEqual([
      ['arn:move:api', 'api'],
      ['arn:move:ci', 'ci'],
    ]);
    expect((await cli(['state', 'restore', file, '--data-dir', dir('new')])).code).toBe(0);

    const a = await agentOn('new');
    expect((await a.untilStatus('arn:move:ci', 'RUNNING')).source).toBe('ci');
    expect((await a.untilStatus('arn:move:api', 'RUNNING')).source).toBe('api');
    // ci's empty set stops ci's task, and leaves the api's alone.
    expect((await a.client.send('PUT', '/v1/sources/ci/tasks', { tasks: [] })).status).toBe(200);
    await a.untilStatus('arn:move:ci', 'STOPPED');
    expect((await a.client.get<TaskView>('/v1/tasks?taskarn=arn:move:api')).body).toMatchObject({ desiredStatus: 'RUNNING', knownStatus: 'RUNNING' });
  });

  it('refuses a directory that holds state, naming it and what it holds, and writes nothing; --force replaces it', async () => {
    const { file, agentId } = await exported();
    const other = await agentOn('other');
    await other.client.post('/v1/tasks', taskBody('arn:other:x'));
    await other.untilStatus('arn:other:x', 'RUNNING');
    const otherId = other.agent!.agentId;
    await other.stop();
    const refused = await cli(['state', 'restore', file, '--data-dir', dir('other')]);
    expect(refused.code).toBe(EXIT.usage);
    expect(refused.stderr).toBe(
      `agent: ${dir('other')} already holds state (agent ID ${otherId}, 1 task(s) in ${join(dir('other'), 'state.db')}); give --force to replace it, or restore into an empty directory\n`,
    );
    const dump = async () => JSON.parse((await cli(['state', 'dump', '--json', '--data-dir', dir('other')])).stdout) as { agentId: string; tasks: Array<{ arn: string }> };
    expect((await dump()).tasks.map((t) => t.arn)).toEqual(['arn:other:x']);

    const forced = await cli(['state', 'restore', file, '--force', '--data-dir', dir('other')]);
    expect(forced).toMatchObject({ code: 0, stdout: expect.stringContaining(`restored 2 task(s) under agent ID ${agentId} into ${dir('other')}, replacing 1 task(s);`) });
    const after = await dump();
    expect(after.agentId).toBe(agentId);
    expect(after.tasks.map((t) => t.arn).sort()).toEqual(['arn:move:one', 'arn:move:two']);
  });

  it('reads the document from standard input with -', async () => {
    await oldAgentWithTwoTasks();
    const exportRun = await cli(['state', 'export', '--data-dir', dir('old')]);
    const run = await cli(['state', 'restore', '-', '--data-dir', dir('piped')], { stdin: exportRun.stdout });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const dump = JSON.parse((await cli(['state', 'dump', '--json', '--data-dir', dir('piped')])).stdout) as { tasks: Array<{ arn: string; knownStatus: string }> };
    expect(dump.tasks.map((t) => [t.arn, t.knownStatus])).toEqual([['arn:move:one', 'NONE'], ['arn:move:two', 'NONE']]);
  });

  it("refuses the directory of a running agent, even with --force", async () => {
    const { file } = await exported();
    await agentOn('live');
    const run = await cli(['state', 'restore', file, '--force', '--data-dir', dir('live')]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toBe(`agent: an agent is running on ${dir('live')} (it answers on ${join(dir('live'), 'agent.sock')}); stop it before restoring into its directory\n`);
  });

  it('refuses a bad document naming the task index and field, and creates nothing', async () => {
    const bad = join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({
      kind: 'berth/agent-state', version: 1, agentId: 'a-1', exportedAt: '',
      tasks: [
        { source: 'api', definition: taskBody('arn:bad:ok') },
        { source: 'api', definition: taskBody('arn:bad:port', { containers: [{ name: 'web', image: IMAGE, portMappings: [{ containerPort: 70000 }] }] }) },
      ],
    }));
    const run = await cli(['state', 'restore', bad, '--data-dir', dir('fresh')]);
    expect(run).toEqual({
      code: EXIT.usage,
      stdout: '',
      stderr: `agent: ${bad} is not a valid export document:\n  tasks[1].definition.containers[0].portMappings[0].containerPort: must be a whole number from 1 to 65535\n`,
    });
    expect(existsSync(dir('fresh'))).toBe(false);
  });

  it('refuses a database it cannot read, even with --force, and leaves it as it was', async () => {
    const { file } = await exported();
    const junk = join(dir('junk'), 'state.db');
    mkdirSync(dir('junk'));
    writeFileSync(junk, 'not a database at all, but long enough to be looked at as one'.repeat(4));
    const run = await cli(['state', 'restore', file, '--force', '--data-dir', dir('junk')]);
    expect(run.code).toBe(EXIT.state);
    expect(run.stderr).toMatch(/^agent: cannot read the state database: /);
    expect(readFileSync(junk, 'utf8')).toMatch(/^not a database/);
  });

  it('refuses a file that is one task, not an export', async () => {
    const one = join(root, 'one.json');
    writeFileSync(one, JSON.stringify(taskBody('arn:one')));
    const run = await cli(['state', 'restore', one, '--data-dir', dir('fresh')]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toBe(`agent: ${one} is not an export document (it has no kind: "berth/agent-state"); \`agent task apply -f\` takes one task\n`);
    expect(existsSync(dir('fresh'))).toBe(false);
  });
});

describe('agent task apply -f with an export document', () => {
  it('applies every task of it, and reports each; a task already there with that definition is unchanged', async () => {
    await oldAgentWithTwoTasks();
    const file = join(root, 'state.json');
    await cli(['state', 'export', '--json', '--data-dir', dir('old'), '-o', file]);
    const a = await agentOn('target');
    await a.client.post('/v1/tasks', taskBody('arn:move:one'));
    const run = await cli(['task', 'apply', '-f', file, '--data-dir', dir('target')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^task arn:move:one updated: desired RUNNING, known \w+\ntask arn:move:two created: desired RUNNING, known NONE\n$/);
    await a.untilStatus('arn:move:two', 'RUNNING');
    const stopped = await cli(['task', 'apply', '-f', file, '--desired-status', 'STOPPED', '--json', '--data-dir', dir('target')]);
    expect((JSON.parse(stopped.stdout) as TaskView[]).map((t) => [t.arn, t.desiredStatus])).toEqual([['arn:move:one', 'STOPPED'], ['arn:move:two', 'STOPPED']]);
  });

  it('refuses --arn and --wait with an export document, and names bad fields by task index before sending anything', async () => {
    const a = await agentOn('target');
    const file = join(root, 'state.json');
    const doc = { kind: 'berth/agent-state', version: 1, agentId: 'a-1', exportedAt: '', tasks: [{ source: 'api', definition: taskBody('arn:x') }] };
    writeFileSync(file, JSON.stringify(doc));
    const at = ['--data-dir', dir('target')];
    expect((await cli(['task', 'apply', '-f', file, '--arn', 'arn:y', ...at])).stderr).toBe(`agent: ${file} is an export document of many tasks: --arn names only one\n`);
    expect((await cli(['task', 'apply', '-f', file, '--wait', ...at])).stderr).toBe(`agent: --wait follows one task; ${file} is an export document of 1\n`);
    writeFileSync(file, JSON.stringify({ ...doc, tasks: [{ source: 'api', definition: { ...taskBody('arn:x'), family: 'bad family' } }] }));
    const bad = await cli(['task', 'apply', '-f', file, ...at]);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toBe(`agent: ${file} is not a valid export document:\n  tasks[0].definition.family: must be 1-255 characters of [A-Za-z0-9_-]\n`);
    expect((await a.client.get<{ tasks: TaskView[] }>('/v1/tasks')).body.tasks).toEqual([]);
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { StateDocument } from '../../../src/api/export/state-document.js';
import type { TaskView } from '../../../src/api/view.js';
import { AgentProcess, docker, removeContainersOf, runCli } from '../../support/agent-process.js';
import { TEST_IMAGE } from '../global-setup.js';

/**
 * The move of an agent's work (README "Export and restore"): export, stop, restore into a new data
 * directory, start there — and Docker's containers are adopted as they are, none made anew.
 */
const RUN = `it${process.pid}-${Date.now()}`;
let root: string;
let agentId = '';
const agents: AgentProcess[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'berth-it-move-'));
});
afterAll(async () => {
  for (const a of agents) await a.stop('SIGTERM');
  removeContainersOf(agentId);
  rmSync(root, { recursive: true, force: true });
});

const isRunning = (t: TaskView | undefined): boolean => t?.knownStatus === 'RUNNING';

function containersOf(id: string): string[] {
  const out = docker('ps', '-aq', '--no-trunc', '--filter', `label=berth.agent-id=${id}`);
  return out ? out.split('\n').sort() : [];
}

function createEvents(id: string, since: number): string[] {
  const out = docker('events', '--since', String(since / 1000), '--until', String(Date.now() / 1000), '--filter', 'type=container', '--filter', 'event=create', '--filter', `label=berth.agent-id=${id}`, '--format', '{{.Actor.ID}}');
  return out ? out.split('\n') : [];
}

function agentOn(dir: string): AgentProcess {
  const a = new AgentProcess(join(root, dir));
  agents.push(a);
  return a;
}

describe('export and restore on real Docker', () => {
  it('moves two running tasks to a new data directory: the agent there adopts every container, creating none', async () => {
    const t0 = Date.now() - 1000;
    const old = agentOn('old');
    await old.start();
    agentId = (await old.client.get<{ agentId: string }>('/v1/metadata')).body.agentId;
    const arns = [`arn:berth:task/${RUN}-web`, `arn:berth:task/${RUN}-pair`];
    await old.client.post('/v1/tasks', { arn: arns[0], family: 'move', version: '1', containers: [{ name: 'web', image: TEST_IMAGE, command: ['sleep', '600'], stopTimeout: 1 }] });
    await old.client.post('/v1/tasks', {
      arn: arns[1],
      family: 'move',
      revision: 2,
      containerDefinitions: [
        { name: 'main', image: TEST_IMAGE, command: ['sleep', '600'], stopTimeout: 1 },
        { name: 'side', image: TEST_IMAGE, command: ['sleep', '600'], stopTimeout: 1, essential: false, dependsOn: [{ containerName: 'main', condition: 'START' }] },
      ],
    });
    const before = await Promise.all(arns.map(async (arn) => (await old.waitForTask(arn, isRunning))!));
    const ids = before.flatMap((t) => t.containers.map((c) => c.dockerId!)).sort();
    expect(containersOf(agentId)).toEqual(ids);

    const file = join(root, 'state.yaml');
    expect(runCli(['state', 'export', '--data-dir', old.dataDir, '-o', file])).toMatchObject({ code: 0 });
    const doc = parse(readFileSync(file, 'utf8')) as StateDocument;
    expect(doc.agentId).toBe(agentId);
    expect(doc.tasks.map((t) => t.definition.arn)).toEqual(arns);

    // SIGTERM stops the agent, not its tasks: the containers keep running without it.
    await old.stop('SIGTERM');
    for (const id of ids) expect(docker('inspect', '-f', '{{.State.Status}}', id)).toBe('running');

    expect(runCli(['state', 'restore', file, '--data-dir', old.dataDir]).code).toBe(2);
    const restored = runCli(['state', 'restore', file, '--data-dir', join(root, 'new')]);
    expect(restored).toMatchObject({ code: 0, stdout: expect.stringContaining(`restored 2 task(s) under agent ID ${agentId}`) });

    const since = Date.now() - 1000;
    const moved = agentOn('new');
    await moved.start();
    expect((await moved.client.get<{ agentId: string }>('/v1/metadata')).body.agentId).toBe(agentId);
    const after = await Promise.all(arns.map(async (arn) => (await moved.waitForTask(arn, isRunning))!));
    expect(after.flatMap((t) => t.containers.map((c) => c.dockerId!)).sort()).toEqual(ids);
    expect(containersOf(agentId)).toEqual(ids);
    expect(createEvents(agentId, since)).toEqual([]);
    // The same query does see the old agent's creates: the empty answer above is not a broken filter.
    expect(createEvents(agentId, t0).sort()).toEqual(ids);
    // Each restored container at NONE was pulled, then its create met Docker's name conflict and adopted the holder.
    await moved.waitForLog(/Adopted existing container[\s\S]*Adopted existing container[\s\S]*Adopted existing container/);
  });
});

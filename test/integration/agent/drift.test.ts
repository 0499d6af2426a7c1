import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { AgentProcess, docker, removeContainersOf } from '../../support/agent-process.js';
import { TEST_IMAGE } from '../global-setup.js';

const RUN = `drift${process.pid}-${Date.now()}`;
const ARN = `arn:berth:task/${RUN}`;
let dataDir: string;
let agent: AgentProcess;
let agentId = '';

/** db ← app (START); side stands alone. busybox's sleep ignores SIGTERM as PID 1, so a stop takes the whole stopTimeout. */
function task(side: Record<string, string>, app: Record<string, string> = {}) {
  const env = (vars: Record<string, string>) => Object.entries(vars).map(([name, value]) => ({ name, value }));
  const base = { image: TEST_IMAGE, command: ['sleep', '600'], memory: 32, dockerLabels: { 'it.run': RUN } };
  return {
    arn: ARN,
    family: 'drift-it',
    revision: 1,
    containerDefinitions: [
      { ...base, name: 'db', stopTimeout: 1 },
      { ...base, name: 'app', stopTimeout: 1, environment: env(app), dependsOn: [{ containerName: 'db', condition: 'START' }] },
      { ...base, name: 'side', stopTimeout: 4, environment: env(side), essential: false },
    ],
  };
}

const idsOf = (t: TaskView): Record<string, string | undefined> => Object.fromEntries(t.containers.map((c) => [c.name, c.dockerId]));
const converged = (generation: number) => (t: TaskView | undefined): boolean =>
  t?.generation === generation && t.retiring === undefined && t.containers.every((c) => c.knownStatus === 'RUNNING');

/** Every container of this run in Docker, as `name → [ids]` by the task's container name. */
function inDocker(): Record<string, string[]> {
  const out = docker('ps', '-a', '--no-trunc', '--filter', `label=it.run=${RUN}`, '--format', '{{.ID}} {{.Label "berth.container-name"}}');
  const byName: Record<string, string[]> = {};
  for (const line of out ? out.split('\n') : []) {
    const [id, name] = line.split(' ');
    (byName[name!] ??= []).push(id!);
  }
  return byName;
}

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'berth-drift-'));
});
afterEach(async () => {
  await agent?.stop('SIGTERM');
  removeContainersOf(agentId);
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('a changed definition on real Docker', () => {
  it('recreates only the changed container, and converges with no duplicate after a SIGKILL half-way through', async () => {
    agent = new AgentProcess(join(dataDir, 'agent'));
    await agent.start();
    agentId = (await agent.client.get<{ agentId: string }>('/v1/metadata')).body.agentId;
    expect((await agent.client.post('/v1/tasks', task({ MODE: 'one' }))).status).toBe(201);
    const first = idsOf((await agent.waitForTask(ARN, converged(1)))!);

    // Generation 2 changes side. Its old instance is being stopped (4 s) when the agent is killed.
    expect((await agent.client.post<TaskView>('/v1/tasks', task({ MODE: 'two' }))).body.generation).toBe(2);
    await agent.waitForLog(/Stopping the old container/);
    await agent.stop('SIGKILL');
    // Docker finishes the stop by itself: the old container has exited, and is still there.
    const deadline = Date.now() + 20_000;
    while (docker('inspect', '-f', '{{.State.Running}}', first.side!) !== 'false') {
      if (Date.now() > deadline) throw new Error('the old side container did not exit');
      await new Promise((r) => setTimeout(r, 100));
    }

    await agent.start();
    const second = idsOf((await agent.waitForTask(ARN, converged(2)))!);
    expect(second.db).toBe(first.db);
    expect(second.app).toBe(first.app);
    expect(second.side).not.toBe(first.side);
    expect(inDocker()).toEqual({ db: [first.db], app: [first.app], side: [second.side] });
    expect(docker('inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', second.side!)).toContain('MODE=two');

    // Generation 3 changes app alone: db and side keep theirs.
    await agent.client.post('/v1/tasks', task({ MODE: 'two' }, { V: '3' }));
    const third = idsOf((await agent.waitForTask(ARN, converged(3)))!);
    expect(third.db).toBe(first.db);
    expect(third.side).toBe(second.side);
    expect(third.app).not.toBe(first.app);
    expect(inDocker()).toEqual({ db: [first.db], app: [third.app], side: [second.side] });
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { AgentProcess, docker, runCli } from '../../support/agent-process.js';
import { counter } from '../../support/agent-metrics.js';
import { until } from '../../support/until.js';
import { TEST_IMAGE } from '../global-setup.js';

const RUN = `it${process.pid}-${Date.now()}`;
let dataDir: string;
let agent: AgentProcess;

function twoContainerTask(arn: string, hostPort?: number) {
  return {
    arn,
    family: 'itest',
    version: '1',
    containers: [
      {
        name: 'web',
        image: TEST_IMAGE,
        command: ['httpd', '-f', '-p', '8080', '-h', '/www'],
        portMappings: [{ containerPort: 8080, ...(hostPort ? { hostPort } : {}) }],
        stopTimeout: 2,
      },
      { name: 'worker', image: TEST_IMAGE, command: ['sleep', '600'], essential: false, stopTimeout: 1 },
    ],
  };
}

const isRunning = (t: TaskView | undefined): boolean => t?.knownStatus === 'RUNNING';
const isStopped = (t: TaskView | undefined): boolean => t?.knownStatus === 'STOPPED';

function containersOf(agentId: string): string[] {
  const out = docker('ps', '-aq', '--no-trunc', '--filter', `label=berth.agent-id=${agentId}`);
  return out ? out.split('\n') : [];
}

async function agentId(): Promise<string> {
  return (await agent.client.get<{ agentId: string }>('/v1/metadata')).body.agentId;
}

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'berth-it-'));
});
afterEach(async () => {
  const id = agent ? await agentId().catch(() => undefined) : undefined;
  await agent?.stop('SIGTERM');
  for (const c of id ? containersOf(id) : []) docker('rm', '-f', c);
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('agent on real Docker', () => {
  it('runs a two-container task, serves on its published port, stops it, and cleans it up', async () => {
    agent = new AgentProcess(join(dataDir, 'lifecycle'), ['--cleanup-wait', '2s']);
    await agent.start();
    const arn = `arn:berth:task/${RUN}-lifecycle`;
    const posted = await agent.client.post<TaskView>('/v1/tasks', twoContainerTask(arn));
    expect(posted.status).toBe(201);
    const started = Date.now();
    const t = (await agent.waitForTask(arn, isRunning))!;
    console.log(`time to RUNNING (two containers, real pull): ${Date.now() - started} ms`);

    const web = t.containers.find((c) => c.name === 'web')!;
    expect(web.portBindings).toHaveLength(1);
    expect(web.portBindings[0]!.hostIp).toBe('127.0.0.1');
    const page = await fetch(`http://127.0.0.1:${web.portBindings[0]!.hostPort}/`).then((r) => r.text());
    expect(page.trim()).toBe('berth test page');
    expect(docker('inspect', '-f', '{{.Name}} {{index .Config.Labels "berth.task-arn"}}', web.dockerId!)).toBe(`/${web.dockerName} ${arn}`);

    const dump = runCli(['state', 'dump', '--data-dir', agent.dataDir]);
    expect(dump.code).toBe(0);
    expect(dump.stdout).toContain(`task ${arn}`);
    expect(dump.stdout).toMatch(/known RUNNING\s+desired RUNNING/);
    expect(dump.stdout).toContain(web.dockerId!.slice(0, 12));

    const stop = runCli(['task', 'stop', arn, '--data-dir', agent.dataDir]);
    expect(stop.code).toBe(0);
    const s = (await agent.waitForTask(arn, isStopped))!;
    expect(s.containers.map((c) => c.reason)).toEqual(['TaskStopRequested', 'TaskStopRequested']);
    expect(docker('inspect', '-f', '{{.State.Status}}', web.dockerId!)).toBe('exited');

    await agent.waitForTask(arn, (x) => x === undefined, 30_000);
    for (const c of s.containers) {
      expect(() => docker('inspect', c.dockerId!)).toThrow();
    }
    const events = await agent.client.get<{ events: Array<{ seq: number; type: string; containerName?: string; status: string }> }>('/v1/events?after=0');
    const webStatuses = events.body.events.filter((e) => e.containerName === 'web').map((e) => e.status);
    expect(webStatuses).toEqual(['PULLED', 'CREATED', 'RUNNING', 'STOPPED']);
  });

  it('an external docker kill of the essential container stops the task with its exit code', async () => {
    agent = new AgentProcess(join(dataDir, 'kill'));
    await agent.start();
    const arn = `arn:berth:task/${RUN}-kill`;
    await agent.client.post('/v1/tasks', twoContainerTask(arn));
    const t = (await agent.waitForTask(arn, isRunning))!;
    const web = t.containers.find((c) => c.name === 'web')!;
    docker('kill', web.dockerId!);
    const s = (await agent.waitForTask(arn, isStopped))!;
    expect(s.desiredStatus).toBe('STOPPED');
    expect(s.containers.find((c) => c.name === 'web')).toMatchObject({ knownStatus: 'STOPPED', exitCode: 137, reason: 'ContainerExited' });
    expect(s.containers.find((c) => c.name === 'worker')).toMatchObject({ knownStatus: 'STOPPED', reason: 'EssentialContainerExited' });
  });

  it('survives SIGKILL: after a restart the task is still RUNNING with the same containers, none duplicated', async () => {
    agent = new AgentProcess(join(dataDir, 'restart'));
    await agent.start();
    const arn = `arn:berth:task/${RUN}-restart`;
    await agent.client.post('/v1/tasks', twoContainerTask(arn));
    const before = (await agent.waitForTask(arn, isRunning))!;
    const id = await agentId();
    const lastSeq = (await agent.client.get<{ last: number }>('/v1/events?after=0')).body.last;

    await agent.stop('SIGKILL');
    await agent.start();
    const after = (await agent.waitForTask(arn, isRunning))!;
    expect(await agentId()).toBe(id);
    expect(after.containers.map((c) => c.dockerId)).toEqual(before.containers.map((c) => c.dockerId));
    expect(containersOf(id).sort()).toEqual(before.containers.map((c) => c.dockerId!).sort());
    // The restart learned nothing new, so it reported nothing; the feed continues where it was.
    // The new process has re-read both containers (its own count, from zero) before the feed is read.
    await until('both containers re-read after the restart', async () => (await counter(agent.client, 'berth_transitions_total', 'kind="inspect"')) >= 2, {
      context: () => agent.log().slice(-3000),
    });
    expect((await agent.client.get<{ events: unknown[] }>(`/v1/events?after=${lastSeq}`)).body.events).toEqual([]);

    const web = after.containers.find((c) => c.name === 'web')!;
    docker('kill', web.dockerId!);
    const s = (await agent.waitForTask(arn, isStopped))!;
    expect(s.containers.find((c) => c.name === 'web')!.exitCode).toBe(137);
  });

  it('the CLI applies a task file, lists it, and rejects a bad file naming the field', async () => {
    agent = new AgentProcess(join(dataDir, 'cli'));
    await agent.start();
    const arn = `arn:berth:task/${RUN}-cli`;
    const file = join(dataDir, 'task.json');
    writeFileSync(file, JSON.stringify(twoContainerTask(arn)));
    const applied = runCli(['task', 'apply', '-f', file, '--data-dir', agent.dataDir]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`task ${arn} created`);
    await agent.waitForTask(arn, isRunning);
    const ls = runCli(['task', 'ls', '--data-dir', agent.dataDir]);
    expect(ls.stdout).toMatch(new RegExp(`${arn}\\s+itest:1\\s+RUNNING\\s+RUNNING`));

    const bad = join(dataDir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...twoContainerTask(arn), containers: [{ name: 'x', image: TEST_IMAGE, portMappings: [{ containerPort: 0 }] }] }));
    const rejected = runCli(['task', 'apply', '-f', bad, '--data-dir', agent.dataDir]);
    expect(rejected.code).toBe(2);
    expect(rejected.stderr).toContain('containers[0].portMappings[0].containerPort');

    const json = runCli(['state', 'dump', '--json', '--data-dir', agent.dataDir]);
    const parsed = JSON.parse(json.stdout) as { tasks: TaskView[]; config: { reconcileConcurrency: number } };
    expect(parsed.tasks.find((t) => t.arn === arn)?.knownStatus).toBe('RUNNING');
    expect(parsed.config.reconcileConcurrency).toBe(8);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';
import { at, cli, NO_RETRIES } from './support.js';

let a: InProcessAgent;
beforeEach(async () => {
  a = await new InProcessAgent().start({}, NO_RETRIES);
});
afterEach(() => a.dispose());

async function running(arn: string, extra: Record<string, unknown> = {}): Promise<TaskView> {
  await a.client.post('/v1/tasks', taskBody(arn, extra));
  return a.untilStatus(arn, 'RUNNING');
}

describe('agent task ls', () => {
  it('prints a table of every task with its containers and age', async () => {
    const t = await running('arn:ls:one');
    const run = await cli(['task', 'ls', ...at(a)], { now: () => Date.parse(t.createdAt) + 125_000 });
    expect(run.code).toBe(0);
    const [header, row] = run.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ARN\s+FAMILY:VERSION\s+DESIRED\s+KNOWN\s+CONTAINERS\s+AGE$/);
    expect(row).toMatch(new RegExp(`^arn:ls:one\\s+api:3\\s+RUNNING  RUNNING\\s+web\\(${t.containers[0]!.dockerId!.slice(0, 12)} RUNNING\\)\\s+2m$`));
  });

  it('passes --status and --family to the agent', async () => {
    await running('arn:ls:api');
    await running('arn:ls:db', { family: 'db' });
    await running('arn:ls:gone');
    await a.client.post('/v1/tasks', { arn: 'arn:ls:gone', desiredStatus: 'STOPPED' });
    await a.untilStatus('arn:ls:gone', 'STOPPED');
    const arns = async (...args: string[]): Promise<string[]> => {
      const run = await cli(['task', 'ls', '--json', ...args, ...at(a)]);
      expect(run.code).toBe(0);
      return (JSON.parse(run.stdout) as TaskView[]).map((t) => t.arn).sort();
    };
    expect(await arns()).toEqual(['arn:ls:api', 'arn:ls:db', 'arn:ls:gone']);
    expect(await arns('--status', 'RUNNING')).toEqual(['arn:ls:api', 'arn:ls:db']);
    expect(await arns('--family', 'api')).toEqual(['arn:ls:api', 'arn:ls:gone']);
    expect(await arns('--status', 'RUNNING', '--family', 'api')).toEqual(['arn:ls:api']);
    const human = await cli(['task', 'ls', '--status', 'STOPPED', ...at(a)]);
    expect(human.stdout).toContain('arn:ls:gone');
    expect(human.stdout).not.toContain('arn:ls:api');
  });

  it('says so when there are no tasks, and rejects an unknown --status with exit 2', async () => {
    expect((await cli(['task', 'ls', ...at(a)])).stdout).toBe('no tasks\n');
    const bad = await cli(['task', 'ls', '--status', 'SLEEPING', ...at(a)]);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain("argument 'SLEEPING' is invalid");
  });

  it('exits 3 when no agent answers', async () => {
    await a.stop();
    const run = await cli(['task', 'ls', ...at(a)]);
    expect(run.code).toBe(EXIT.unreachable);
    expect(run.stderr).toMatch(/^agent: cannot reach the agent on .*agent\.sock: .*is `agent run` running\?/);
  });

  it('finds the socket through BERTH_DATA_DIR as well as --data-dir and --socket', async () => {
    await running('arn:ls:env');
    expect((await cli(['task', 'ls'], { env: { BERTH_DATA_DIR: a.config.dataDir } })).stdout).toContain('arn:ls:env');
    expect((await cli(['task', 'ls', '--socket', a.config.socketPath])).stdout).toContain('arn:ls:env');
  });
});

describe('agent task inspect', () => {
  it('shows each container with image, IDs, statuses, exit code, reason, ports and times', async () => {
    const t = await running('arn:inspect:one');
    const c = t.containers[0]!;
    a.docker.crash(c.dockerId!, 3);
    await a.untilStatus('arn:inspect:one', 'STOPPED');
    const run = await cli(['task', 'inspect', 'arn:inspect:one', ...at(a)]);
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/^task {10}arn:inspect:one$/m);
    expect(out).toMatch(/^family {8}api:3$/m);
    expect(out).toMatch(/^status {8}known STOPPED, desired STOPPED$/m);
    expect(out).toMatch(/^container web$/m);
    expect(out).toMatch(/^ {2}image {7}registry\.test:5000\/berth\/busybox:latest$/m);
    expect(out).toContain(`  docker id   ${c.dockerId}`);
    expect(out).toContain(`  docker name ${c.dockerName}`);
    expect(out).toMatch(/^ {2}exit code {3}3$/m);
    expect(out).toMatch(/^ {2}reason {6}ContainerExited: container web exited with exit code 3$/m);
    expect(out).toMatch(/^ {2}ports {7}127\.0\.0\.1:\d+->80\/tcp$/m);
    expect(out).toMatch(/^ {2}started {5}\d{4}-\d\d-\d\dT.*Z \(\S+ ago\)$/m);
    expect(out).toMatch(/^ {2}finished {4}\d{4}-/m);
  });

  it('--json prints the task view; an unknown ARN is exit 4 with the agent\'s message', async () => {
    await running('arn:inspect:json');
    const run = await cli(['task', 'inspect', 'arn:inspect:json', '--json', ...at(a)]);
    expect(JSON.parse(run.stdout)).toMatchObject({ arn: 'arn:inspect:json', knownStatus: 'RUNNING', containers: [{ name: 'web' }] });
    const missing = await cli(['task', 'inspect', 'arn:nope', ...at(a)]);
    expect(missing.code).toBe(EXIT.rejected);
    expect(missing.stderr).toBe('agent: agent refused (404 TaskNotFound): no task with arn "arn:nope"\n');
  });
});

describe('agent task stop', () => {
  it('asks the agent to stop the task', async () => {
    await running('arn:stop:one');
    const run = await cli(['task', 'stop', 'arn:stop:one', ...at(a)]);
    expect(run).toMatchObject({ code: 0, stdout: 'task arn:stop:one: desired STOPPED, known RUNNING\n' });
    await a.untilStatus('arn:stop:one', 'STOPPED');
    const json = await cli(['task', 'stop', 'arn:stop:one', '--json', ...at(a)]);
    expect(JSON.parse(json.stdout)).toMatchObject({ desiredStatus: 'STOPPED', knownStatus: 'STOPPED' });
  });
});

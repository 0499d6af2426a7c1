import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { EXIT } from '../../../src/cli/exit-codes.js';
import type { TaskView } from '../../../src/api/view.js';
import { IMAGE } from '../../support/fixtures.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';
import { ANSI, at, cli, NO_RETRIES, writeFile } from './support.js';

let a: InProcessAgent;
/** Held Docker calls, let go before the agent is closed (closing waits for work in flight). */
let gates: Array<() => void>;
beforeEach(async () => {
  a = await new InProcessAgent().start({}, NO_RETRIES);
  gates = [];
});
afterEach(async () => {
  gates.forEach((release) => release());
  await a.dispose();
});

function holdNextPull(): () => void {
  let release!: () => void;
  a.docker.delayNext('pull', new Promise<void>((r) => (release = r)));
  gates.push(release);
  return release;
}

describe('agent task apply', () => {
  it('creates a task and says so, without waiting', async () => {
    const file = writeFile(a, 'task.json', taskBody('arn:apply:plain'));
    const run = await cli(['task', 'apply', '-f', file, ...at(a)]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe('task arn:apply:plain created: desired RUNNING, known NONE\n');
    await a.untilStatus('arn:apply:plain', 'RUNNING');
  });

  it('--wait on a plain stream prints one line per status change, a progress line, and no ANSI codes', async () => {
    const file = writeFile(a, 'task.json', taskBody('arn:apply:wait'));
    const run = await cli(['task', 'apply', '-f', file, '--wait', ...at(a)]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).not.toMatch(ANSI);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe('task arn:apply:wait created: desired RUNNING, known NONE');
    expect(lines.filter((l) => / pulling registry\.test:5000\/berth\/busybox:latest: \d+%/.test(l))).toHaveLength(1);
    const changes = lines.filter((l) => /^\+\s*\d+\.\ds {2}(task|container)/.test(l)).map((l) => l.replace(/^\+\s*\d+\.\ds {2}/, ''));
    expect(changes).toEqual([
      'container web PULLED',
      'task PULLED',
      'container web CREATED',
      'task CREATED',
      'container web RUNNING',
      'task RUNNING',
    ]);
    expect(run.stdout).toMatch(/task arn:apply:wait is RUNNING \(\d+\.\ds\)/);
  });

  it('--wait on a terminal draws a progress bar per container, redrawn in place', async () => {
    const body = taskBody('arn:apply:tty', {
      containers: [
        { name: 'web', image: 'registry.test:5000/berth/busybox:latest' },
        { name: 'sidecar', image: 'registry.test:5000/berth/busybox:latest' },
      ],
    });
    const run = await cli(['task', 'apply', '-f', writeFile(a, 'task.json', body), '--wait', ...at(a)], { tty: true });
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toMatch(ANSI);
    // Cursor up over the two-bar block, then clear below: the in-place redraw.
    expect(run.stdout).toContain('\x1b[2A\r\x1b[J');
    expect(run.stdout).toMatch(/web {6}\[#{24}\] 100% {2}registry\.test:5000\/berth\/busybox:latest {2}pulled/);
    expect(run.stdout).toMatch(/sidecar {2}\[#{24}\] 100%/);
    expect(run.stdout).toContain('task RUNNING');
  });

  it('--wait exits 6 when the essential container fails, naming the container and its reason', async () => {
    const body = taskBody('arn:apply:fail', { containers: [{ name: 'web', image: 'registry.test:5000/berth/missing:1' }] });
    const run = await cli(['task', 'apply', '-f', writeFile(a, 'task.json', body), '--wait', ...at(a)]);
    expect(run.code).toBe(EXIT.taskStopped);
    expect(run.stdout).toContain('container web STOPPED  PullFailed: ');
    expect(run.stdout).toMatch(/task arn:apply:fail STOPPED instead of reaching RUNNING/);
    expect(run.stdout).toMatch(/web\s+-\s+STOPPED\s+STOPPED\s+-\s+0\s+PullFailed: pulling registry\.test:5000\/berth\/missing:1 failed/);
    expect(run.stderr).toMatch(/^agent: task arn:apply:fail stopped instead of running: container web: PullFailed pulling/);
  });

  it('--wait --json prints only the final task view', async () => {
    const file = writeFile(a, 'task.json', taskBody('arn:apply:json'));
    const run = await cli(['task', 'apply', '-f', file, '--wait', '--json', ...at(a)]);
    expect(run.code).toBe(EXIT.ok);
    expect(JSON.parse(run.stdout)).toMatchObject({ arn: 'arn:apply:json', knownStatus: 'RUNNING' });
  });

  it('--wait gives up after --timeout with exit 7, and the agent carries on', async () => {
    const release = holdNextPull();
    const file = writeFile(a, 'task.json', taskBody('arn:apply:slow'));
    const run = await cli(['task', 'apply', '-f', file, '--wait', '--timeout', '200ms', ...at(a)]);
    expect(run.code).toBe(EXIT.timeout);
    expect(run.stderr).toContain('agent: task arn:apply:slow is NONE, not RUNNING, after 200ms (--timeout)');
    release();
    await a.untilStatus('arn:apply:slow', 'RUNNING');
  });

  it('--wait exits 130 when interrupted', async () => {
    holdNextPull();
    const interrupt = new AbortController();
    const file = writeFile(a, 'task.json', taskBody('arn:apply:int'));
    const running = cli(['task', 'apply', '-f', file, '--wait', ...at(a)], { signal: interrupt.signal });
    setTimeout(() => interrupt.abort(), 100);
    const run = await running;
    expect(run.code).toBe(EXIT.interrupted);
    expect(run.stderr).toContain('stopped waiting for task arn:apply:int (it is NONE; the agent carries on)');
  });

  it('--wait on a task that is already RUNNING returns at once', async () => {
    const file = writeFile(a, 'task.json', taskBody('arn:apply:again'));
    expect((await cli(['task', 'apply', '-f', file, '--wait', ...at(a)])).code).toBe(0);
    const again = await cli(['task', 'apply', '-f', file, '--wait', ...at(a)]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('task arn:apply:again updated: desired RUNNING, known RUNNING');
  });

  it('accepts YAML, by extension and from standard input', async () => {
    const yaml = stringify(taskBody('arn:apply:yaml'));
    const byName = await cli(['task', 'apply', '-f', writeFile(a, 'task.yml', yaml), ...at(a)]);
    expect(byName.code).toBe(0);
    expect(byName.stdout).toContain('task arn:apply:yaml created');
    const piped = await cli(['task', 'apply', '-f', '-', '--json', ...at(a)], { stdin: stringify(taskBody('arn:apply:stdin')) });
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ arn: 'arn:apply:stdin', family: 'api', version: '3' });
  });

  it('rejects an invalid file with exit 2, naming each bad field by its JSON path, and sends nothing', async () => {
    const bad = taskBody('arn:apply:bad', { containers: [{ name: 'web', image: 'Not An Image', portMappings: [{ containerPort: 0 }] }] });
    const run = await cli(['task', 'apply', '-f', writeFile(a, 'bad.json', bad), ...at(a)]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('is not a valid task:');
    expect(run.stderr).toContain('  containers[0].image: must be a Docker image reference');
    expect(run.stderr).toContain('  containers[0].portMappings[0].containerPort:');
    expect((await a.client.get('/v1/tasks?taskarn=arn:apply:bad')).status).toBe(404);
  });

  it('rejects a file that is neither JSON nor a YAML mapping, and a missing file, with exit 2', async () => {
    const garbled = await cli(['task', 'apply', '-f', writeFile(a, 'task.json', '{"arn": '), ...at(a)]);
    expect(garbled.code).toBe(EXIT.usage);
    expect(garbled.stderr).toMatch(/is neither valid JSON nor valid YAML|is not valid JSON/);
    const missing = await cli(['task', 'apply', '-f', '/nonexistent/task.json', ...at(a)]);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toContain('cannot read /nonexistent/task.json');
  });

  it('exits 3 when no agent answers on the socket', async () => {
    const file = writeFile(a, 'task.json', taskBody('arn:apply:nobody'));
    const run = await cli(['task', 'apply', '-f', file, '--wait', '--socket', `${a.dir}/nobody.sock`]);
    expect(run.code).toBe(EXIT.unreachable);
    expect(run.stderr).toContain(`cannot reach the agent on ${a.dir}/nobody.sock`);
  });

  it('applies a changed definition as the task\'s next generation', async () => {
    const file = writeFile(a, 'task.json', taskBody('arn:apply:changed'));
    expect((await cli(['task', 'apply', '-f', file, ...at(a)])).code).toBe(0);
    const changed = writeFile(a, 'changed.json', taskBody('arn:apply:changed', { family: 'other' }));
    const run = await cli(['task', 'apply', '-f', changed, ...at(a)]);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toMatch(/^task arn:apply:changed updated: desired RUNNING/);
    expect((await a.client.get<TaskView>('/v1/tasks?taskarn=arn:apply:changed')).body).toMatchObject({ family: 'other', generation: 2 });
  });

  it('applies an ECS task definition as written, deriving and printing the arn, and prints the agent\'s warnings', async () => {
    const taskdef = {
      family: 'ecs-web',
      revision: 4,
      taskRoleArn: 'arn:aws:iam::123456789012:role/web',
      containerDefinitions: [{ name: 'web', image: IMAGE, memory: 64, environment: [{ name: 'GREETING', value: 'hi' }], command: ['sleep', '300'] }],
    };
    const run = await cli(['task', 'apply', '-f', writeFile(a, 'taskdef.json', taskdef), ...at(a)]);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toBe('task arn:berth:task/ecs-web:4 created: desired RUNNING, known NONE\n');
    expect(run.stderr.split('\n')).toEqual([
      `agent: ${a.dir}/taskdef.json has no arn; using arn:berth:task/ecs-web:4 (from its family and revision; --arn sets one)`,
      expect.stringMatching(/^agent: warning: taskRoleArn: accepted, no effect: the task IAM role is served by the ECS credentials endpoint/),
      '',
    ]);
    const view = await a.untilStatus('arn:berth:task/ecs-web:4', 'RUNNING');
    expect(view).toMatchObject({ family: 'ecs-web', version: '4' });
  });

  it('derives revision 1 for a definition that gives none, as RegisterTaskDefinition input never does', async () => {
    const taskdef = { family: 'first', containerDefinitions: [{ name: 'web', image: IMAGE, command: ['sleep', '300'] }] };
    const run = await cli(['task', 'apply', '-f', writeFile(a, 'taskdef.yaml', stringify(taskdef)), '--json', ...at(a)]);
    expect(run.code).toBe(EXIT.ok);
    expect(JSON.parse(run.stdout)).toMatchObject({ arn: 'arn:berth:task/first:1', version: '1', warnings: [] });
  });

  it('--arn sets the arn, over the file\'s own', async () => {
    const run = await cli(['task', 'apply', '-f', writeFile(a, 'task.json', taskBody('arn:apply:in-file')), '--arn', 'arn:apply:flag', ...at(a)]);
    expect(run).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(run.stdout).toContain('task arn:apply:flag created');
    expect((await a.client.get('/v1/tasks?taskarn=arn:apply:in-file')).status).toBe(404);
  });

  it('--desired-status sets the desired status: the same file then stops the task', async () => {
    const file = writeFile(a, 'task.json', taskBody('arn:apply:stop'));
    expect((await cli(['task', 'apply', '-f', file, '--wait', ...at(a)])).code).toBe(EXIT.ok);
    const run = await cli(['task', 'apply', '-f', file, '--desired-status', 'STOPPED', ...at(a)]);
    expect(run.stdout).toContain('task arn:apply:stop updated: desired STOPPED');
    await a.untilStatus('arn:apply:stop', 'STOPPED');
    const bad = await cli(['task', 'apply', '-f', file, '--desired-status', 'PAUSED', ...at(a)]);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/Allowed choices are RUNNING, STOPPED/);
  });

  it('--wait shows the agent\'s warnings among its lines', async () => {
    const taskdef = { arn: 'arn:apply:warn', family: 'w', requiresCompatibilities: ['EC2'], containerDefinitions: [{ name: 'web', image: IMAGE, command: ['sleep', '300'] }] };
    const run = await cli(['task', 'apply', '-f', writeFile(a, 'taskdef.json', taskdef), '--wait', ...at(a)]);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout.split('\n')[0]).toBe('warning: requiresCompatibilities: accepted, no effect: a launch-type constraint for ECS placement; this task runs on this host');
  });

  it('leaves privileged to the agent: refused (exit 4) unless it runs with --allow-privileged', async () => {
    const taskdef = { arn: 'arn:apply:priv', family: 'p', containerDefinitions: [{ name: 'web', image: IMAGE, privileged: true, command: ['sleep', '300'] }] };
    const file = writeFile(a, 'taskdef.json', taskdef);
    const refused = await cli(['task', 'apply', '-f', file, ...at(a)]);
    expect(refused.code).toBe(EXIT.rejected);
    expect(refused.stderr).toContain('agent refused (400 InvalidInput):\n  containerDefinitions[0].privileged: privileged gives the container every capability');
    const permissive = await new InProcessAgent().start({ allowPrivileged: true }, NO_RETRIES);
    try {
      const accepted = await cli(['task', 'apply', '-f', file, ...at(permissive)]);
      expect(accepted.code).toBe(EXIT.ok);
      const view = await permissive.untilStatus('arn:apply:priv', 'RUNNING');
      expect(view.arn).toBe('arn:apply:priv');
    } finally {
      await permissive.dispose();
    }
  });

  it('refuses an ECS definition with a field this host cannot honour, with exit 2, before sending it', async () => {
    const taskdef = { family: 'f', networkMode: 'awsvpc', containerDefinitions: [{ name: 'web', image: IMAGE, secrets: [{ name: 'A', valueFrom: 'arn:aws:ssm:::parameter/a' }] }] };
    const run = await cli(['task', 'apply', '-f', writeFile(a, 'taskdef.json', taskdef), ...at(a)]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain('  containerDefinitions[0].secrets: secrets are read from AWS Secrets Manager');
    expect(run.stderr).toContain('  networkMode: networkMode "awsvpc" gives each task its own elastic network interface');
    expect((await a.client.get<{ tasks: TaskView[] }>('/v1/tasks')).body.tasks).toEqual([]);
  });

  it('cannot derive an arn without a usable family, and says what is wrong', async () => {
    const run = await cli(['task', 'apply', '-f', writeFile(a, 'taskdef.json', { family: 'bad family', containerDefinitions: [{ name: 'web', image: IMAGE }] }), ...at(a)]);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain('  arn: required');
    expect(run.stderr).toContain('  family: must be 1-255 characters of [A-Za-z0-9_-]');
    expect(run.stderr).toContain('  (--arn sets the arn; without it, one is made from a valid family and revision)');
  });
});

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_BIN, AgentProcess, docker, removeContainersOf, runCli } from '../../support/agent-process.js';
import { TEST_IMAGE } from '../global-setup.js';

/*
 * `agent logs` as an operator runs it: the built CLI, through the built agent's socket, reading a
 * real container's output from Docker. The container waits for a file that the test creates with
 * `docker exec`, so the follow is open before the container writes its last line and exits.
 */

const RUN = `lg${process.pid}-${Date.now().toString(36)}`;
const ARN = `arn:berth:task/${RUN}`;
let root: string;
let agent: AgentProcess;
let agentId = '';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'berth-logs-it-'));
  agent = new AgentProcess(join(root, 'data'), ['--cleanup-wait', '1h']);
  await agent.start();
  agentId = (await agent.client.get<{ agentId: string }>('/v1/metadata')).body.agentId;
});
afterAll(async () => {
  await agent?.stop();
  removeContainersOf(agentId);
  rmSync(root, { recursive: true, force: true });
});

const cli = (...args: string[]): string[] => [AGENT_BIN, ...args, '--data-dir', agent.dataDir];

function follow(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, cli('logs', ARN, '--follow'), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('agent logs', () => {
  it('follows a container across its exit, stderr apart; then --tail and --timestamps read the stopped container', async () => {
    const script = 'echo out1; echo err1 >&2; while [ ! -f /tmp/go ]; do sleep 0.1; done; echo out2; exit 3';
    const body = { arn: ARN, family: 'logs-it', containerDefinitions: [{ name: 'app', image: TEST_IMAGE, command: ['sh', '-c', script], stopTimeout: 1 }] };
    expect((await agent.client.post('/v1/tasks', body)).status).toBe(201);
    const running = await agent.waitForTask(ARN, (t) => t?.containers[0]?.knownStatus === 'RUNNING');
    const dockerId = running!.containers[0]!.dockerId!;

    const followed = follow();
    // Docker has the first lines before the follow is let go on.
    const deadline = Date.now() + 15_000;
    while (!runCli(['logs', ARN, '--data-dir', agent.dataDir]).stdout.includes('out1')) {
      if (Date.now() > deadline) throw new Error('the container wrote nothing within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    docker('exec', dockerId, 'touch', '/tmp/go');
    const out = await followed;
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('out1\nout2\n');
    expect(out.stderr).toBe('err1\n');
    await agent.waitForTask(ARN, (t) => t?.containers[0]?.knownStatus === 'STOPPED');

    const tail = runCli(['logs', ARN, '--tail', '1', '--data-dir', agent.dataDir]);
    expect(tail).toMatchObject({ code: 0, stdout: 'out2\n' });
    const stamped = runCli(['logs', ARN, 'app', '--timestamps', '--json', '--data-dir', agent.dataDir]);
    expect(stamped.code).toBe(0);
    const lines = stamped.stdout.trim().split('\n').map((l) => JSON.parse(l) as { stream: string; line: string; time: string });
    // Docker copies the two streams apart, so out1 and err1 (written together) may come either way round.
    expect(lines.map((l) => [l.stream, l.line]).sort()).toEqual([['stderr', 'err1'], ['stdout', 'out1'], ['stdout', 'out2']]);
    expect(lines.at(-1)!.line).toBe('out2');
    for (const l of lines) expect(Date.parse(l.time)).toBeGreaterThan(Date.now() - 120_000);

    const unknown = runCli(['logs', ARN, 'nope', '--data-dir', agent.dataDir]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('app');
  });
});

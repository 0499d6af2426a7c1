import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, removeContainersOf, runCli } from '../../support/agent-process.js';

// The endpoints scripts/setup-remote-docker.sh serves in front of the local daemon.
const BASE = '/var/lib/berth-test';
const TLS_HOST = 'tcp://127.0.0.1:2376';
const SSH_HOST = 'ssh://root@127.0.0.1:2222';
const GOOD_CERTS = `${BASE}/tls/client`;
const ROGUE_CERTS = `${BASE}/tls/rogue-client`;
const SSH_KEY = `${BASE}/ssh/client_ed25519`;
const REFUSED_KEY = `${BASE}/ssh/refused_ed25519`;
const IMAGE = '127.0.0.1:5000/berth/busybox:latest';
const RUN = `re${process.pid}-${Date.now()}`;

let dir: string;
let agent: AgentProcess | undefined;
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-remote-'));
});
afterEach(async () => {
  const id = agent ? await agent.client.get<{ agentId: string }>('/v1/metadata').then((r) => r.body.agentId, () => '') : '';
  await agent?.stop('SIGTERM');
  removeContainersOf(id);
  agent = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dataDir = (): string => join(dir, `data-${++n}`);
// No DOCKER_* or ssh agent of the test runner leaks into the agent under test.
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const name of ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'SSH_AUTH_SOCK', 'BERTH_DOCKER_SSH_KEY']) delete env[name];
  return env;
};

async function runOneTask(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<AgentProcess> {
  agent = new AgentProcess(dataDir(), args, env);
  await agent.start();
  const arn = `arn:berth:task/${RUN}-${n}`;
  const posted = await agent.client.post('/v1/tasks', {
    arn,
    family: 'remote',
    version: '1',
    containers: [{ name: 'app', image: IMAGE, command: ['sh', '-c', 'sleep 2'], stopTimeout: 1 }],
  });
  expect(posted.status).toBe(201);
  const running = await agent.waitForTask(arn, (t) => t?.knownStatus === 'RUNNING' || t?.knownStatus === 'STOPPED');
  expect(running?.knownStatus).toBe('RUNNING');
  const stopped = await agent.waitForTask(arn, (t) => t?.knownStatus === 'STOPPED');
  expect(stopped?.containers[0]).toMatchObject({ knownStatus: 'STOPPED', exitCode: 0 });
  return agent;
}

describe('a TLS-only tcp:// Docker endpoint', () => {
  it('runs a task with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH', async () => {
    const a = await runOneTask([], { ...cleanEnv(), DOCKER_HOST: TLS_HOST, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: GOOD_CERTS });
    expect(a.log()).toMatch(/Docker answers/);
  });

  it('runs a task with the flags', async () => {
    await runOneTask(['--docker-host', TLS_HOST, '--docker-tls-verify', '--docker-cert-path', GOOD_CERTS]);
  });

  it('refuses to start with a client certificate the endpoint does not accept, naming the endpoint', () => {
    const result = runCli(['run', '--data-dir', dataDir(), '--docker-host', TLS_HOST, '--docker-tls-verify', '--docker-cert-path', ROGUE_CERTS]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Docker at ${TLS_HOST} (TLS) refused the connection`);
  });

  it('refuses to start when a certificate file is missing, naming it', () => {
    const result = runCli(['run', '--data-dir', dataDir(), '--docker-host', TLS_HOST, '--docker-tls-verify', '--docker-cert-path', join(dir, 'none')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`TLS file ${join(dir, 'none', 'ca.pem')} does not exist`);
  });
});

describe('an ssh:// Docker endpoint', () => {
  it('runs a task with a generated key, accepting the new host key into the data dir', async () => {
    const a = await runOneTask(['--docker-host', SSH_HOST, '--docker-ssh-key', SSH_KEY]);
    const known = readFileSync(join(a.dataDir, 'docker-ssh-known-hosts'), 'utf8');
    const hostKey = readFileSync(`${BASE}/ssh/host_ed25519.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    expect(known).toBe(`[127.0.0.1]:2222 ${hostKey}\n`);
    // The dump names the key file, never its contents.
    const dump = runCli(['state', 'dump', '--data-dir', a.dataDir]);
    expect(dump.stdout).toContain(`"keyPath":"${SSH_KEY}"`);
    expect(dump.stdout).not.toContain(readFileSync(SSH_KEY, 'utf8').split('\n')[1]!);
  });

  it('refuses to start with a key the host refuses, naming the endpoint', () => {
    const result = runCli(['run', '--data-dir', dataDir(), '--docker-host', SSH_HOST, '--docker-ssh-key', REFUSED_KEY]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Docker at ${SSH_HOST} refused the connection: the ssh key was refused`);
  });
  it('refuses to start when the host key differs from the known one', () => {
    const data = dataDir();
    mkdirSync(data, { recursive: true });
    const otherKey = readFileSync(`${REFUSED_KEY}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(join(data, 'docker-ssh-known-hosts'), `[127.0.0.1]:2222 ${otherKey}\n`);
    const result = runCli(['run', '--data-dir', data, '--docker-host', SSH_HOST, '--docker-ssh-key', SSH_KEY]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Docker at ${SSH_HOST} refused the connection: the ssh host key is not the known one`);
  });
});

describe('an unreachable Docker host', () => {
  it('starts, says so at start-up naming the endpoint, and reports health 503', async () => {
    agent = new AgentProcess(dataDir(), ['--docker-host', 'ssh://root@127.0.0.1:1', '--docker-ssh-key', SSH_KEY], cleanEnv());
    await agent.start({ healthy: false });
    await agent.waitForLog(/Docker is unreachable at start-up/);
    expect(agent.log()).toContain('ssh://root@127.0.0.1:1');
    expect((await agent.client.get('/v1/health')).status).toBe(503);
  });
});

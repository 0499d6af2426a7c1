import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { AgentProcess, removeContainersOf, runCli } from '../../support/agent-process.js';
import { AUTH_REGISTRY, basicAuth, forgetImage, secretForms } from '../../support/auth-registry.js';

const RUN = `pr${process.pid}-${Date.now()}`;
const { host, image, username, password } = AUTH_REGISTRY;
const WRONG = `${password}-wrong`;

let dir: string;
let agent: AgentProcess | undefined;
let cases = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-private-'));
});
// Each case pulls from the registry itself: a copy left by the last one would let a pull without
// credentials look like it worked.
beforeEach(() => forgetImage(image));
afterEach(async () => {
  const id = agent ? await agent.client.get<{ agentId: string }>('/v1/metadata').then((r) => r.body.agentId, () => '') : '';
  await agent?.stop('SIGTERM');
  removeContainersOf(id);
  agent = undefined;
});
afterAll(() => {
  forgetImage(image);
  rmSync(dir, { recursive: true, force: true });
});

/** An agent reading `dockerConfig` (written to its own file), with `env` on top of this process's. */
async function agentWith(dockerConfig: unknown, env: NodeJS.ProcessEnv = {}): Promise<AgentProcess> {
  const n = ++cases;
  const file = join(dir, `config-${n}.json`);
  writeFileSync(file, JSON.stringify(dockerConfig));
  agent = new AgentProcess(join(dir, `data-${n}`), ['--docker-config', file], { ...process.env, ...env });
  await agent.start();
  return agent;
}

async function runPrivateTask(a: AgentProcess, name: string): Promise<TaskView> {
  const arn = `arn:berth:task/${RUN}-${name}`;
  const posted = await a.client.post('/v1/tasks', {
    arn,
    family: 'private',
    version: '1',
    containers: [{ name: 'app', image, command: ['sleep', '300'], stopTimeout: 1 }],
  });
  expect(posted.status).toBe(201);
  return (await a.waitForTask(arn, (t) => t?.knownStatus === 'RUNNING' || t?.knownStatus === 'STOPPED'))!;
}

/** The agent's log, its event feed and its state dump (text and JSON): where a secret must never be. */
function everythingTheAgentSays(a: AgentProcess): string {
  const outputs = [a.log()];
  for (const args of [['events', '--json'], ['state', 'dump'], ['state', 'dump', '--json']]) {
    const result = runCli([...args, '--data-dir', a.dataDir]);
    expect(result.code, `agent ${args.join(' ')}: ${result.stderr}`).toBe(0);
    outputs.push(result.stdout);
  }
  return outputs.join('\n');
}

function expectNoSecret(text: string, extra: string[] = []): void {
  for (const secret of [...secretForms(), WRONG, basicAuth(username, WRONG), ...extra]) expect(text).not.toContain(secret);
}

describe('pulls from a password-protected registry', () => {
  it('runs the task with the right credentials from auths', async () => {
    const a = await agentWith({ auths: { [`https://${host}`]: { auth: basicAuth(username, password) } } });
    const task = await runPrivateTask(a, 'right');
    expect(task.knownStatus).toBe('RUNNING');
    const text = everythingTheAgentSays(a);
    expect(text).toMatch(/Read registry credentials from the docker config/);
    expect(text).toContain(`Pulled image`);
    expectNoSecret(text);
  });

  it.each([
    ['wrong credentials', () => ({ auths: { [host]: { username, password: WRONG } } }), /^pulling \S+ failed: registry 127\.0\.0\.1:5001 answered 401 Unauthorized to the credentials given for it: .*unauthorized/],
    ['no credentials for the registry', () => ({ auths: { '127.0.0.1:5000': { auth: basicAuth(username, password) } } }), /^pulling \S+ failed: registry 127\.0\.0\.1:5001 answered 401 Unauthorized to an anonymous pull \(no credentials for it\): .*no basic auth credentials/],
  ])('stops the container with PullFailed naming the 401 for %s, and says no secret', async (_what, config, message) => {
    const a = await agentWith(config());
    const task = await runPrivateTask(a, 'refused');
    expect(task.knownStatus).toBe('STOPPED');
    expect(task.containers[0]).toMatchObject({ reason: 'PullFailed', reasonMessage: expect.stringMatching(message) });
    const text = everythingTheAgentSays(a);
    // The failure is in each of them, so each was really read.
    expect(text).toContain('Failed to pull image');
    expect(text.split('PullFailed').length).toBeGreaterThan(3);
    expectNoSecret(text);
  });

  it('pulls with credentials from a credential helper on the agent PATH (credsStore)', async () => {
    const bin = mkdtempSync(join(dir, 'bin-'));
    const asked = join(bin, 'asked');
    // A real helper: `get` reads the server on stdin and prints {ServerURL, Username, Secret}.
    writeFileSync(
      join(bin, 'docker-credential-berthtest'),
      `#!/bin/sh
server=$(cat)
echo "$1 $server" >> ${asked}
if [ "$server" = "${host}" ]; then
  printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\\n' "$server" "${username}" "${password}"
else
  echo "credentials not found in native keychain"; exit 1
fi
`,
    );
    chmodSync(join(bin, 'docker-credential-berthtest'), 0o755);
    const a = await agentWith({ auths: { [host]: {} }, credsStore: 'berthtest' }, { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` });
    const task = await runPrivateTask(a, 'helper');
    expect(task.knownStatus).toBe('RUNNING');
    const text = everythingTheAgentSays(a);
    expect(text).toContain('credsStore=berthtest');
    expect(readFileSync(asked, 'utf8')).toBe(`get ${host}\n`);
    expectNoSecret(text);
  });

  it('stops the container with PullFailed naming a credHelpers helper that is not on PATH', async () => {
    const a = await agentWith({ credHelpers: { [host]: 'berth-missing' } });
    const task = await runPrivateTask(a, 'no-helper');
    expect(task.containers[0]).toMatchObject({
      reason: 'PullFailed',
      reasonMessage: `pulling ${image} failed: credential helper docker-credential-berth-missing is not on PATH`,
    });
  });
});

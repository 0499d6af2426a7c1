import { afterEach, describe, expect, it } from 'vitest';
import type { TaskState } from '../../../src/api/task.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import type { HelperRunner } from '../../../src/docker/registry-auth/credential-helper.js';
import { parseDockerConfig } from '../../../src/docker/registry-auth/docker-config.js';
import { registryCredentials } from '../../../src/docker/registry-auth/registry-credentials.js';
import { containerDef, IMAGE, taskDef } from '../../support/fixtures.js';
import { running, stopped, trackedEngines, waitForTask } from '../../support/engine-harness.js';
import { recordingLogger } from '../../support/recording-logger.js';

const engineFor = trackedEngines(afterEach);

const PRIVATE = 'private.test:5001/berth/private:latest';
const USER = { username: 'ann', password: 'Engine-Secret-5' };
const b64 = (text: string): string => Buffer.from(text).toString('base64');

const noHelpers: HelperRunner = async () => {
  throw new Error('no helper expected');
};

function engineWith(dockerConfig: unknown, run: HelperRunner = noHelpers) {
  const docker = new FakeDocker({ images: [IMAGE, PRIVATE], registryUsers: { 'private.test:5001': USER } });
  const { log, lines } = recordingLogger();
  const made = engineFor({
    docker,
    log,
    registryCredentials: registryCredentials(parseDockerConfig(JSON.stringify(dockerConfig), '/cfg/config.json'), { run, timeoutMs: 1_000 }),
  });
  return { ...made, lines };
}

async function runTask(engine: ReturnType<typeof engineWith>['engine'], arn: string, image = PRIVATE): Promise<TaskState> {
  await engine.start();
  await engine.addTask({ kind: 'definition', task: taskDef(arn, [containerDef('app', { image })]) });
  return waitForTask(engine, arn, (t) => running(t) || stopped(t));
}

describe('TaskEngine pulls with registry credentials', () => {
  it('runs a task whose image needs the credentials the docker config has for its registry', async () => {
    const { engine } = engineWith({ auths: { 'https://private.test:5001': { auth: b64(`${USER.username}:${USER.password}`) } } });
    expect((await runTask(engine, 'arn:auth-ok')).knownStatus).toBe('RUNNING');
  });

  it.each([
    ['wrong credentials', { auths: { 'private.test:5001': { username: 'ann', password: 'not-it' } } }, 'to the credentials given for it: unauthorized: authentication required'],
    ['no credentials for the registry', { auths: { 'other.test': { auth: b64(`${USER.username}:${USER.password}`) } } }, 'to an anonymous pull (no credentials for it): no basic auth credentials'],
  ])("stops the container with PullFailed naming the registry's 401 for %s, and no secret anywhere", async (_what, config, how) => {
    const { engine, events, lines } = engineWith(config);
    const task = await runTask(engine, 'arn:auth-refused');
    expect(task.containers[0]).toMatchObject({
      knownStatus: 'STOPPED',
      reason: { code: 'PullFailed', message: `pulling ${PRIVATE} failed: registry private.test:5001 answered 401 Unauthorized ${how}` },
    });
    const everything = JSON.stringify([task, events, lines]);
    for (const secret of [USER.password, 'not-it', b64(`${USER.username}:${USER.password}`)]) expect(everything).not.toContain(secret);
    expect(lines.some((l) => l.includes('Failed to pull image'))).toBe(true);
  });

  it('stops the container with PullFailed naming a credential helper that fails, never what it printed', async () => {
    const broken: HelperRunner = async () => {
      throw Object.assign(new Error('Command failed'), { code: 2, stdout: 'vault sealed\n', stderr: '' });
    };
    const { engine, events } = engineWith({ credHelpers: { 'private.test:5001': 'vault' } }, broken);
    const task = await runTask(engine, 'arn:auth-helper');
    expect(task.containers[0]!.reason).toEqual({
      code: 'PullFailed',
      message: `pulling ${PRIVATE} failed: credential helper docker-credential-vault exited with code 2: vault sealed`,
    });
    expect(events.some((e) => JSON.stringify(e).includes('PullFailed'))).toBe(true);
  });

  it('pulls with what the helper answers, asking it again for each Docker pull', async () => {
    const asked: string[] = [];
    const vault: HelperRunner = async (program, _args, server) => {
      asked.push(`${program} ${server}`);
      return { stdout: JSON.stringify({ ServerURL: server, Username: USER.username, Secret: USER.password }) };
    };
    const { engine, docker } = engineWith({ credsStore: 'vault' }, vault);
    expect((await runTask(engine, 'arn:auth-helper-ok')).knownStatus).toBe('RUNNING');
    await engine.addTask({ kind: 'definition', task: taskDef('arn:auth-helper-again', [containerDef('app', { image: PRIVATE })]) });
    await waitForTask(engine, 'arn:auth-helper-again', running);
    const pulls = docker.calls.filter((c) => c.op === 'pull' && c.arg === PRIVATE).length;
    expect(pulls).toBeGreaterThan(0);
    expect(asked).toEqual(Array.from({ length: pulls }, () => 'docker-credential-vault private.test:5001'));
  });

  it('leaves a public image anonymous', async () => {
    const { engine } = engineWith({ auths: {} });
    expect((await runTask(engine, 'arn:public', IMAGE)).knownStatus).toBe('RUNNING');
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateChange } from '../../../src/api/events.js';
import type { TaskView } from '../../../src/api/view.js';
import { AgentProcess, docker, removeContainersOf, runCli } from '../../support/agent-process.js';

const RUN = `pb${process.pid}-${Date.now()}`;
const BASE = '127.0.0.1:5000/berth/busybox:latest';
/** Local only: tagged here, never pushed, so the registry answers "manifest unknown" to its pull. */
const LOCAL_ONLY = `127.0.0.1:5000/berth/local-only:${RUN}`;

let dir: string;
let agent: AgentProcess;
let agentId = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-pulls-'));
  docker('pull', BASE);
  docker('tag', BASE, LOCAL_ONLY);
  agent = new AgentProcess(join(dir, 'data'), ['--image-pull-retries', '1']);
  await agent.start();
  agentId = (await agent.client.get<{ agentId: string }>('/v1/metadata')).body.agentId;
});

afterAll(async () => {
  await agent?.stop('SIGTERM');
  removeContainersOf(agentId);
  try {
    docker('rmi', LOCAL_ONLY);
  } catch {
    // Already gone.
  }
  rmSync(dir, { recursive: true, force: true });
});

async function runTask(name: string, container: Record<string, unknown>): Promise<TaskView> {
  const arn = `arn:berth:task/${RUN}-${name}`;
  const posted = await agent.client.post('/v1/tasks', {
    arn,
    family: 'pulls',
    version: '1',
    containers: [{ name: 'app', command: ['sleep', '300'], stopTimeout: 1, ...container }],
  });
  expect(posted.status).toBe(201);
  return (await agent.waitForTask(arn, (t) => t?.knownStatus === 'RUNNING' || t?.knownStatus === 'STOPPED'))!;
}

/** The agent's log lines about one task. */
const linesOf = (task: TaskView): string[] => agent.log().split('\n').filter((l) => l.includes(task.arn));

describe('pull behaviours on real Docker', () => {
  it('reports the digest it pulled on the container and its events, as Docker records it', async () => {
    const task = await runTask('digest', { image: BASE });
    expect(task.knownStatus).toBe('RUNNING');
    const c = task.containers[0]!;
    const repoDigests = JSON.parse(docker('image', 'inspect', BASE, '--format', '{{json .RepoDigests}}')) as string[];
    expect(repoDigests).toContain(`127.0.0.1:5000/berth/busybox@${c.imageDigest}`);
    expect(c.imageId).toBe(docker('image', 'inspect', BASE, '--format', '{{.Id}}'));
    expect(c.imageSource).toBe('pulled');
    const events = (await agent.client.get<{ events: StateChange[] }>('/v1/events?after=0')).body.events.filter((e) => e.taskArn === task.arn && e.type === 'container');
    expect(events.map((e) => e.status)).toEqual(['PULLED', 'CREATED', 'RUNNING']);
    for (const e of events) expect(e.imageDigest).toBe(c.imageDigest);
  });

  it('default: runs the cached image when the registry cannot serve it, and says so', async () => {
    const task = await runTask('fallback', { image: LOCAL_ONLY });
    expect(task.knownStatus).toBe('RUNNING');
    const c = task.containers[0]!;
    expect(c.imageSource).toBe('cached-after-failure');
    expect(c.pullFailure).toMatch(/manifest unknown|not found/);
    expect(c.imageId).toBe(docker('image', 'inspect', LOCAL_ONLY, '--format', '{{.Id}}'));
    // Never pushed under this name: no digest for its repository.
    expect(c.imageDigest).toBeUndefined();
    expect(linesOf(task).some((l) => l.includes('WARN') && l.includes(`Failed to pull image; running the cached image ${c.imageId}`))).toBe(true);
    // Not found is not worth retrying: one attempt.
    expect(linesOf(task).filter((l) => l.includes('Pull attempt failed; retrying'))).toEqual([]);
  });

  it('always: fails the container with PullFailed in the same case', async () => {
    const task = await runTask('always', { image: LOCAL_ONLY, imagePullBehavior: 'always' });
    expect(task.knownStatus).toBe('STOPPED');
    expect(task.containers[0]).toMatchObject({ reason: 'PullFailed', reasonMessage: expect.stringMatching(/manifest unknown|not found/) });
    expect(task.containers[0]!.dockerId).toBeUndefined();
  });

  it('prefer-cached: uses the local image without asking the registry', async () => {
    const task = await runTask('prefer', { image: BASE, imagePullBehavior: 'prefer-cached' });
    expect(task.knownStatus).toBe('RUNNING');
    expect(task.containers[0]!.imageSource).toBe('cached');
    expect(linesOf(task).some((l) => l.includes('Using the cached image'))).toBe(true);
    expect(linesOf(task).some((l) => l.includes('Pulling image'))).toBe(false);
  });

  it('refuses a bad --image-pull-behavior at start-up, naming the setting', () => {
    const result = runCli(['run', '--data-dir', join(dir, 'refused'), '--image-pull-behavior', 'never']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/image pull behavior \(BERTH_IMAGE_PULL_BEHAVIOR\) must be one of default, always, once, prefer-cached, got "never"/);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../../src/agent.js';
import type { StateChange } from '../../../src/api/events.js';
import type { ContainerView, TaskView } from '../../../src/api/view.js';
import { resolveConfig } from '../../../src/config/config.js';
import { ControlClient } from '../../../src/control/client.js';
import { DockerodeClient } from '../../../src/docker/dockerode-client.js';
import { silentLogger } from '../../../src/log/logger.js';
import { openSqliteSaver } from '../../../src/state/sqlite-saver.js';
import { systemClock, type Clock } from '../../../src/util/clock.js';
import { AgentProcess, clockAhead, docker, removeContainersOf, runCli } from '../../support/agent-process.js';
import { DockerProxy } from '../../support/docker-proxy.js';
import { expectCleanFeed, readFeed } from '../../support/docker-truth.js';
import { TEST_IMAGE } from '../global-setup.js';

/*
 * ECS restart policies on the real Docker engine. ECS's smallest restartAttemptPeriod is 60 s, too
 * long to wait out in a test, so the agent's wall clock is moved ahead of Docker's instead: the
 * in-process agent through its injected Clock, the built agent (for the SIGKILLs) through a Node
 * preload that shifts the process's Date (test/support/clock-ahead.mjs), as libfaketime would.
 * Nothing in the agent knows. Docker's times (StartedAt, FinishedAt) stay real, so to the agent a
 * container that ran seconds ran as long as the shift; the shift between two restarts is what
 * decides whether the second exit is "a period later" or "too soon".
 */

const RUN = `rp${process.pid}-${Date.now().toString(36)}`;
const HOUR = 3_600_000;
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'berth-restart-it-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Resolves once `check` holds, tried every 20 ms; fails after `ms`. */
async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const app = (t: TaskView | undefined): ContainerView | undefined => t?.containers.find((c) => c.name === 'app');
const startedAt = (id: string): string => docker('inspect', '-f', '{{.State.StartedAt}}', id);

/** `(incarnation) status` of the container events for `app`, in feed order. */
const lifeOf = (events: readonly StateChange[]): string[] =>
  events.filter((e) => e.type === 'container' && e.containerName === 'app').map((e) => `#${e.restartCount ?? 0} ${e.status}`);

describe('a restart in place on real Docker (the in-process agent, its injected clock moved ahead)', () => {
  let agent: RunningAgent;
  let client: ControlClient;
  const clock: Clock & { ahead: number } = { ...systemClock, ahead: 0, now: () => Date.now() + clock.ahead };

  beforeAll(async () => {
    const dir = join(root, 'in-process');
    const config = resolveConfig({ dataDir: join(dir, 'data') }, { env: {}, uid: 1000, home: dir });
    agent = await startAgent({
      config,
      docker: new DockerodeClient({ socketPath: '/var/run/docker.sock', timeoutMs: 30_000, pullTimeoutMs: 120_000 }),
      saver: openSqliteSaver(join(dir, 'data', 'state.db')),
      log: silentLogger(),
      clock,
      defaultMetrics: false,
    });
    client = new ControlClient(config.socketPath, 10_000);
  });
  afterAll(async () => {
    await agent?.close();
    if (agent) removeContainersOf(agent.agentId);
  });

  async function until(arn: string, predicate: (t: TaskView | undefined) => boolean, ms = 30_000): Promise<TaskView> {
    const deadline = Date.now() + ms;
    let last: TaskView | undefined;
    while (Date.now() < deadline) {
      const res = await client.get<TaskView>(`/v1/tasks?taskarn=${encodeURIComponent(arn)}`);
      last = res.status === 200 ? res.body : undefined;
      if (predicate(last)) return last!;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`task ${arn} did not reach the expected state in ${ms} ms; last: ${JSON.stringify(last, null, 1)}`);
  }

  /** An ECS task whose container exits with 3 when Docker sends it SIGTERM. */
  async function post(label: string, restartPolicy: Record<string, unknown>): Promise<string> {
    const arn = `arn:berth:task/${RUN}-${label}`;
    const res = await client.post('/v1/tasks', {
      arn,
      family: 'restart-it',
      containerDefinitions: [
        {
          name: 'app',
          image: TEST_IMAGE,
          command: ['sh', '-c', 'trap "exit 3" TERM; sleep 3600 & wait $!'],
          portMappings: [{ containerPort: 8080 }],
          stopTimeout: 2,
          restartPolicy,
        },
      ],
    });
    expect(res.status).toBe(201);
    return arn;
  }

  it('restarts the same Docker container once it ran the period; an exit sooner after the restart stops it, saying why', async () => {
    clock.ahead = 0;
    const arn = await post('in-place', { enabled: true, restartAttemptPeriod: 60 });
    const first = app(await until(arn, (t) => t?.knownStatus === 'RUNNING'))!;
    const id = first.dockerId!;
    const firstStart = startedAt(id);

    // An hour passes, to the agent; then the container's process exits with 3.
    clock.ahead = HOUR;
    docker('kill', '-s', 'TERM', id);
    const restarted = await until(arn, (t) => app(t)?.restartCount === 1 && app(t)?.knownStatus === 'RUNNING');
    expect(restarted.knownStatus).toBe('RUNNING');
    expect(app(restarted)).toMatchObject({ dockerId: id, restartCount: 1, lastExitCode: 3 });
    expect(Date.parse(app(restarted)!.lastRestartAt!)).toBeGreaterThan(Date.now() + HOUR - 60_000);
    expect(app(restarted)!.portBindings).toHaveLength(1);
    expect(startedAt(id)).not.toBe(firstStart);
    expect(docker('inspect', '-f', '{{.State.Running}}', id)).toBe('true');
    expect(docker('ps', '-aq', '--no-trunc', '--filter', `label=berth.task-arn=${arn}`)).toBe(id);

    // Seconds later, by the same clock: within the period, so not restarted; essential, it stops the task.
    docker('kill', '-s', 'TERM', id);
    const done = await until(arn, (t) => t?.knownStatus === 'STOPPED');
    expect(app(done)).toMatchObject({ knownStatus: 'STOPPED', exitCode: 3, restartCount: 1, lastExitCode: 3, reason: 'ContainerExited' });
    expect(app(done)!.reasonMessage).toMatch(/^container app exited with exit code 3; not restarted: it ran \d+ s since its last restart, less than its restartAttemptPeriod of 60 s$/);

    const feed = (await readFeed(client)).filter((e) => e.taskArn === arn);
    expectCleanFeed(feed);
    expect(lifeOf(feed)).toEqual(['#0 PULLED', '#0 CREATED', '#0 RUNNING', '#0 STOPPED', '#1 CREATED', '#1 RUNNING', '#1 STOPPED']);
    expect(feed.find((e) => e.reason === 'ContainerRestarting')).toMatchObject({ status: 'STOPPED', exitCode: 3, dockerId: id });
    expect(feed.filter((e) => e.type === 'task').map((e) => e.status)).toEqual(['PULLED', 'CREATED', 'RUNNING', 'STOPPED']);
  });

  it('does not restart an exit code in ignoredExitCodes, however long the container ran', async () => {
    clock.ahead = 0;
    const arn = await post('ignored', { enabled: true, ignoredExitCodes: [3] });
    const id = app(await until(arn, (t) => t?.knownStatus === 'RUNNING'))!.dockerId!;
    clock.ahead = 2 * HOUR;
    docker('kill', '-s', 'TERM', id);
    const done = await until(arn, (t) => t?.knownStatus === 'STOPPED');
    expect(app(done)).toMatchObject({ exitCode: 3, reason: 'ContainerExited', reasonMessage: "container app exited with exit code 3; not restarted: exit code 3 is in its restartPolicy's ignoredExitCodes" });
    expect(app(done)).not.toHaveProperty('restartCount');
  });
});

describe('restarts and SIGKILLs of the built agent (its clock moved ahead by a preload, its Docker calls through a proxy)', () => {
  it('a restart decided while the agent was down, one decided just before a SIGKILL, and a SIGKILL while the restarted container runs: each restart happens once, and the saved count holds', async () => {
    const dataDir = join(root, 'sigkill');
    const proxy = await DockerProxy.listen(join(root, 'docker.sock'));
    const agent = new AgentProcess(dataDir, ['--docker-host', `unix://${proxy.socketPath}`]);
    const launch = async (aheadMs: number): Promise<void> => {
      agent.nodeArgs = clockAhead(aheadMs);
      await agent.start();
    };
    const arn = `arn:berth:task/${RUN}-sigkill`;
    let agentId = '';
    try {
      await launch(HOUR);
      agentId = (await agent.client.get<{ agentId: string }>('/v1/metadata')).body.agentId;
      const posted = await agent.client.post('/v1/tasks', {
        arn,
        family: 'restart-it',
        containerDefinitions: [
          {
            name: 'app',
            image: TEST_IMAGE,
            command: ['sleep', '3600'],
            stopTimeout: 1,
            restartPolicy: { enabled: true, restartAttemptPeriod: 60 },
          },
        ],
      });
      expect(posted.status).toBe(201);
      const id = app(await agent.waitForTask(arn, (t) => t?.knownStatus === 'RUNNING'))!.dockerId!;
      const starts = [startedAt(id)];

      // 1. The container is killed while the agent is down: the next agent decides the restart.
      await agent.stop('SIGKILL');
      docker('kill', id);
      await launch(2 * HOUR);
      const one = await agent.waitForTask(arn, (t) => app(t)?.restartCount === 1 && app(t)?.knownStatus === 'RUNNING');
      expect(app(one)).toMatchObject({ dockerId: id, lastExitCode: 137 });
      starts.push(startedAt(id));

      // 2. SIGKILLed while the restarted container runs: re-read, it is adopted running, not restarted.
      await agent.stop('SIGKILL');
      await launch(3 * HOUR);
      await agent.waitForLog(/Inspected container.*running/);
      expect(app(await agent.task(arn))).toMatchObject({ knownStatus: 'RUNNING', restartCount: 1 });
      expect(startedAt(id)).toBe(starts[1]);

      // 3. SIGKILLed just after a restart is decided and saved, its start on the way to Docker but
      // held by the proxy, so Docker has not started the container again. The database holds the decision.
      proxy.hold((method, path) => method === 'POST' && path === `/containers/${id}/start`);
      docker('kill', id);
      await until(() => proxy.held.length === 1);
      await agent.stop('SIGKILL');
      proxy.hold(undefined);
      const saved = JSON.parse(runCli(['state', 'dump', '--json', '--data-dir', dataDir]).stdout) as { tasks: TaskView[] };
      expect(app(saved.tasks.find((t) => t.arn === arn))).toMatchObject({ knownStatus: 'CREATED', restartCount: 2, lastExitCode: 137 });
      expect(startedAt(id)).toBe(starts[1]);
      await launch(3 * HOUR);
      const two = await agent.waitForTask(arn, (t) => app(t)?.knownStatus === 'RUNNING');
      expect(app(two)).toMatchObject({ dockerId: id, restartCount: 2, lastExitCode: 137 });
      starts.push(startedAt(id));
      expect(new Set(starts).size).toBe(3);

      // A stop request ends it for good; the dump shows the restarts.
      await agent.client.post('/v1/tasks', { arn, desiredStatus: 'STOPPED' });
      const stopped = await agent.waitForTask(arn, (t) => t?.knownStatus === 'STOPPED');
      expect(app(stopped)).toMatchObject({ restartCount: 2, reason: 'TaskStopRequested' });
      expect(startedAt(id)).toBe(starts[2]);
      const dump = runCli(['state', 'dump', '--data-dir', dataDir]);
      expect(dump.stdout).toMatch(new RegExp(`^ {2}app\\s+${id.slice(0, 12)}\\s+STOPPED\\s+STOPPED\\s+-\\s+\\d+\\s+2 \\(last exit 137\\)`, 'm'));

      const feed = (await readFeed(agent.client)).filter((e) => e.taskArn === arn);
      expectCleanFeed(feed);
      expect(lifeOf(feed)).toEqual(['#0 PULLED', '#0 CREATED', '#0 RUNNING', '#0 STOPPED', '#1 CREATED', '#1 RUNNING', '#1 STOPPED', '#2 CREATED', '#2 RUNNING', '#2 STOPPED']);
      expect(feed.filter((e) => e.reason === 'ContainerRestarting').map((e) => [e.restartCount ?? 0, e.exitCode])).toEqual([[0, 137], [1, 137]]);
      expect(docker('ps', '-aq', '--no-trunc', '--filter', `label=berth.task-arn=${arn}`)).toBe(id);
    } finally {
      await agent.stop('SIGTERM');
      await proxy.close();
      if (agentId) removeContainersOf(agentId);
    }
  });
});

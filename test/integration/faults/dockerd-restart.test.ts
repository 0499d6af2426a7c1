import { afterAll, afterEach, expect, it } from 'vitest';
import type { StateChange } from '../../../src/api/events.js';
import type { TaskView } from '../../../src/api/view.js';
import { counter, eventStreamErrors, relistPasses } from '../../support/agent-metrics.js';
import { expectCleanFeed, expectStateMatchesDocker, readFeed } from '../../support/docker-truth.js';
import { dockerdAnswers, ensureDockerd, startDockerd, stopDockerd } from '../../support/dockerd.js';
import { useFaultAgents, type FaultAgent } from '../../support/fault-agents.js';
import { until } from '../../support/until.js';
import { TEST_IMAGE } from '../global-setup.js';

const faults = useFaultAgents('dockerd');
/** The agent that ran through the restart, for the assertions after it. */
let agent: FaultAgent | undefined;
// Registered after the agents' clean-up, so it runs before it: a test that failed with the daemon
// down gets it back, and the clean-up can remove the test's containers.
afterEach(() => {
  if (!dockerdAnswers()) startDockerd({ liveRestore: false });
});
// The rest of the suite runs against a daemon started the usual way.
afterAll(() => ensureDockerd({ liveRestore: false }));

// A shell that exits with a known code on SIGTERM, which is how Docker stops containers at shutdown.
const exitingOnTerm = (code: number): string[] => ['sh', '-c', `trap 'exit ${code}' TERM; while true; do sleep 0.2; done`];
const EXIT = { main: 3, side: 5 } as const;
const taskBody = (arn: string) => ({
  arn,
  family: 'dockerd',
  version: '1',
  containers: [
    { name: 'main', image: TEST_IMAGE, command: exitingOnTerm(EXIT.main), essential: true, stopTimeout: 5 },
    { name: 'side', image: TEST_IMAGE, command: exitingOnTerm(EXIT.side), essential: false, stopTimeout: 5 },
  ],
});

const logTail = (): string => `--- agent log ---\n${agent?.log().slice(-4000)}`;
const poll = (what: string, check: () => Promise<boolean>, ms = 60_000): Promise<true> => until(what, check, { ms, context: logTail });

const reconnects = (a: FaultAgent): Promise<number> => counter(a.client, 'berth_event_stream_reconnects_total');

/**
 * Two running tasks, then dockerd stops and starts again. Returns what the agent reported while the
 * daemon was gone and the ARN of a task posted during the outage.
 */
async function restartDockerdUnderAgent(liveRestore: boolean, tag: string) {
  await ensureDockerd({ liveRestore });
  agent = await faults.started(tag, ['--relist-interval', '1s']);
  const a = agent;
  const arns = [0, 1].map((i) => `arn:dockerd/${process.pid}/${tag}-${i}`);
  for (const arn of arns) expect((await agent.client.post('/v1/tasks', taskBody(arn))).status).toBe(201);
  for (const arn of arns) await agent.waitForTask(arn, (t) => t?.knownStatus === 'RUNNING');
  const beforeRestart = (await readFeed(agent.client)).at(-1)!.seq;

  const logFrom = agent.log().length;
  await stopDockerd();
  // What the daemon sent before it exited came through the event stream ahead of its end: once the
  // agent has seen the stream end, the outage starts.
  await poll('the event stream to end', async () => /Docker event stream (ended|broke); reopening/.test(a.log().slice(logFrom)));
  await poll('health 503 naming Docker', async () => {
    const h = await a.client.get<{ checks: { docker: { ok: boolean } } }>('/v1/health');
    return h.status === 503 && !h.body.checks.docker.ok;
  });
  const outageFrom = (await readFeed(agent.client)).at(-1)!.seq;
  const reconnectsAtOutage = await reconnects(agent);
  // The agent keeps accepting and saving work while Docker is gone.
  const late = `arn:dockerd/${process.pid}/${tag}-late`;
  expect((await agent.client.post('/v1/tasks', taskBody(late))).status).toBe(201);
  // And an agent started now starts: it serves, says Docker is down, and takes a task.
  const coldAgent = await faults.started(`${tag}-cold`, [], { healthy: false });
  const coldHealth = await coldAgent.client.get<{ checks: { docker: { ok: boolean } } }>('/v1/health');
  expect([coldHealth.status, coldHealth.body.checks.docker.ok]).toEqual([503, false]);
  const coldTask = `arn:dockerd/${process.pid}/${tag}-cold`;
  expect((await coldAgent.client.post('/v1/tasks', taskBody(coldTask))).status).toBe(201);
  // Several relist passes and event-stream retries go by with the daemon down.
  const retriesFrom = await eventStreamErrors(agent.client);
  await relistPasses(agent.client, 3, logTail);
  await poll('two failed event-stream retries', async () => (await eventStreamErrors(a.client)) >= retriesFrom + 2);
  const duringOutage = await readFeed(agent.client, outageFrom);
  // Attempts to reconnect fail while the daemon is down; none may count as a reconnect.
  expect(await reconnects(agent)).toBe(reconnectsAtOutage);

  startDockerd({ liveRestore });
  await poll('health 200', async () => (await a.client.get('/v1/health')).status === 200);
  await poll('an event-stream reconnect', async () => (await reconnects(a)) > reconnectsAtOutage);
  await agent.waitForTask(late, (t) => t?.knownStatus === 'RUNNING');
  await coldAgent.waitForTask(coldTask, (t) => t?.knownStatus === 'RUNNING');
  return { arns, late, beforeRestart, duringOutage };
}

async function views(arns: readonly string[]): Promise<TaskView[]> {
  return Promise.all(arns.map(async (arn) => (await agent!.task(arn))!));
}

const stopsOf = (events: readonly StateChange[], arn: string) => events.filter((e) => e.taskArn === arn && e.status === 'STOPPED');

it('with --live-restore the containers outlive the daemon restart: the agent reconnects and reports nothing stopped', async () => {
  const { arns, late, beforeRestart, duringOutage } = await restartDockerdUnderAgent(true, 'live');
  expect(duringOutage).toEqual([]);
  // Three relist passes after the reconnect: the relist and the post-reconnect re-reads have had
  // their chance to report something wrong.
  await relistPasses(agent!.client, 3, logTail);
  const after = await readFeed(agent!.client, beforeRestart);
  expect(after.filter((e) => arns.includes(e.taskArn))).toEqual([]);
  // The feed was read past the restart: the task posted during the outage came up after it.
  expect(after.some((e) => e.taskArn === late && e.status === 'RUNNING')).toBe(true);
  expect(after.filter((e) => e.status === 'STOPPED')).toEqual([]);
  const all = await views([...arns, late]);
  for (const t of all) expect(t.containers.map((c) => c.knownStatus)).toEqual(['RUNNING', 'RUNNING']);
  expectStateMatchesDocker(agent!.agentId, all);
  expectCleanFeed(await readFeed(agent!.client));
}, 240_000);

it('without --live-restore the containers die with the daemon: each is reported STOPPED once with its exit code, after Docker answers', async () => {
  const { arns, late, duringOutage } = await restartDockerdUnderAgent(false, 'plain');
  expect(duringOutage).toEqual([]);
  for (const arn of arns) await agent!.waitForTask(arn, (t) => t?.knownStatus === 'STOPPED' && t.containers.every((c) => c.knownStatus === 'STOPPED'));
  const stoppedTasks = await views(arns);
  for (const t of stoppedTasks) {
    expect(t.containers.map((c) => [c.name, c.exitCode])).toEqual([
      ['main', EXIT.main],
      ['side', EXIT.side],
    ]);
  }
  const events = await readFeed(agent!.client);
  for (const arn of arns) {
    // One STOPPED per container and one for the task: the essential container's exit stopped it.
    expect(stopsOf(events, arn).map((e) => `${e.type} ${e.containerName ?? ''} ${e.exitCode ?? ''}`).sort()).toEqual([
      `container main ${EXIT.main}`,
      `container side ${EXIT.side}`,
      'task  ',
    ]);
  }
  expect(stopsOf(events, late)).toEqual([]);
  expectStateMatchesDocker(agent!.agentId, await views([...arns, late]));
  expectCleanFeed(events);
}, 240_000);

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect, it } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { docker } from '../../support/agent-process.js';
import { expectCleanFeed, expectStateMatchesDocker, readFeed } from '../../support/docker-truth.js';
import { useFaultAgents } from '../../support/fault-agents.js';
import { until } from '../../support/until.js';
import { TEST_IMAGE } from '../global-setup.js';

const faults = useFaultAgents('chaos');

const KILLS = Number(process.env.BERTH_CHAOS_KILLS ?? 50);
const TASKS = 10;
const STOPPED_TASKS = 4;
const SEED = Number(process.env.BERTH_CHAOS_SEED ?? Date.now() % 2 ** 31);

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with BERTH_CHAOS_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SeenEvent {
  readonly action: string;
  readonly arn: string;
  readonly container: string;
  readonly timeNano: bigint;
}

/** Docker's own events for this run's containers (both families), from now until `stop()`. */
function watchDocker(): { stop: () => Promise<SeenEvent[]> } {
  const child = spawn(
    '/usr/bin/docker',
    ['events', '--filter', 'type=container', '--filter', 'label=berth.agent-id', '--format', '{{json .}}'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit');
  const end = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  faults.defer(end);
  return {
    stop: async () => {
      // Docker sends its events in order: once a marker container's create has come through the
      // pipe, every event before it has too. Its labels keep it out of the events returned.
      const marker = `chaos-${process.pid}-marker`;
      faults.alsoRemove(`name=${marker}`);
      docker('create', '--name', marker, '--label', `berth.agent-id=${marker}`, TEST_IMAGE, 'true');
      await until('the marker event from docker events', () => out.includes(marker));
      docker('rm', '-f', marker);
      await end();
      return out
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { Action: string; timeNano: number | string; Actor: { Attributes: Record<string, string> } })
        .filter((e) => e.Actor.Attributes['berth.task-arn']?.startsWith(`arn:chaos/${process.pid}/`))
        .map((e) => ({
          action: e.Action,
          arn: e.Actor.Attributes['berth.task-arn']!,
          container: e.Actor.Attributes['berth.container-name']!,
          timeNano: BigInt(e.timeNano),
        }));
    },
  };
}

/*
 * The chain task, in the ECS form: db becomes healthy, then migrate runs to success, then app
 * (which also needs db healthy) starts, then edge. Its ordering is checked on Docker's own event
 * times, across every kill; the shutdown follows the direct edges backwards, as ECS's does.
 */
const CHAIN_ARN = `arn:chaos/${process.pid}/chain`;
const CHAIN_EDGES = [
  { dependent: 'migrate', on: 'db', condition: 'HEALTHY' },
  { dependent: 'app', on: 'migrate', condition: 'SUCCESS' },
  { dependent: 'app', on: 'db', condition: 'HEALTHY' },
  { dependent: 'edge', on: 'app', condition: 'START' },
] as const;
const chainBody = () => ({
  arn: CHAIN_ARN,
  family: 'chaos-chain',
  revision: 1,
  containerDefinitions: [
    {
      name: 'db',
      image: TEST_IMAGE,
      essential: true,
      command: ['sh', '-c', 'sleep 2; touch /tmp/ready; exec sleep 600'],
      healthCheck: { command: ['CMD-SHELL', 'test -f /tmp/ready'], interval: 5, timeout: 2, retries: 3, startPeriod: 0 },
      stopTimeout: 2,
    },
    { name: 'migrate', image: TEST_IMAGE, essential: false, command: ['sh', '-c', 'sleep 1'], dependsOn: [{ containerName: 'db', condition: 'HEALTHY' }] },
    {
      name: 'app',
      image: TEST_IMAGE,
      essential: true,
      command: ['sleep', '600'],
      stopTimeout: 1,
      dependsOn: [
        { containerName: 'migrate', condition: 'SUCCESS' },
        { containerName: 'db', condition: 'HEALTHY' },
      ],
    },
    { name: 'edge', image: TEST_IMAGE, essential: true, command: ['sleep', '600'], stopTimeout: 1, dependsOn: [{ containerName: 'app', condition: 'START' }] },
  ],
});

/**
 * No dependent ever started before its dependency met its condition, by Docker's clock: HEALTHY is
 * Docker's first `health_status: healthy`, SUCCESS the dependency's `die` (with exit 0, checked on
 * the agent's record), START its first `start`. And the shutdown ran dependents first: every
 * container died no later than the containers it depends on.
 */
function expectChainOrder(seen: readonly SeenEvent[]): void {
  const of = (container: string, action: string): bigint[] =>
    seen.filter((e) => e.arn === CHAIN_ARN && e.container === container && e.action === action).map((e) => e.timeNano);
  const first = (times: bigint[]): bigint | undefined => times.reduce<bigint | undefined>((a, b) => (a === undefined || b < a ? b : a), undefined);
  for (const edge of CHAIN_EDGES) {
    const started = first(of(edge.dependent, 'start'));
    expect(started, `${edge.dependent} started`).toBeDefined();
    const met = first(of(edge.on, edge.condition === 'HEALTHY' ? 'health_status: healthy' : edge.condition === 'SUCCESS' ? 'die' : 'start'));
    expect(met, `${edge.on} reached ${edge.condition} before ${edge.dependent} started`).toBeDefined();
    expect(started! >= met!, `${edge.dependent} started at ${started}, ${edge.on} reached ${edge.condition} at ${met}`).toBe(true);
  }
  // Shutdown: edge before app (edge needs it), app before db (app needs it); migrate exited long before.
  const died = (container: string): bigint | undefined => first(of(container, 'die'));
  expect(died('edge')! <= died('app')!, 'edge stopped before app').toBe(true);
  expect(died('app')! <= died('db')!, 'app stopped before db').toBe(true);
}

const arnOf = (i: number): string => `arn:chaos/${process.pid}/task-${i}`;
const taskBody = (i: number) => ({
  arn: arnOf(i),
  family: 'chaos',
  version: '1',
  containers: ['a', 'b', 'c'].map((name) => ({ name, image: TEST_IMAGE, command: ['sleep', '600'], stopTimeout: 1, essential: name === 'a' })),
});

it(`SIGKILLed ${KILLS} times while bringing ${TASKS} tasks and a dependency chain up and some down, the agent converges with exactly one container each, the chain's order held and a clean feed`, async () => {
  console.log(`chaos seed ${SEED} (replay with BERTH_CHAOS_SEED=${SEED})`);
  const random = prng(SEED);
  const agent = faults.agent('data');
  const dockerEvents = watchDocker();
  let kills = 0;
  let startupKills = 0;
  for (let round = 0; round < KILLS; round++) {
    if (round % 5 === 4) {
      // Killed somewhere in its start-up: opening and migrating the database, claiming the socket,
      // re-reading Docker, or the first steps.
      agent.launch();
      // A seeded random moment, on purpose: not a wait for anything.
      await new Promise((r) => setTimeout(r, Math.floor(random() * 500)));
      await agent.stop('SIGKILL');
      kills++;
      startupKills++;
      continue;
    }
    await agent.start();
    // Requests race the kill: some are answered, some die with the agent; both are fine.
    const requests: Array<Promise<unknown>> = [];
    for (let i = 0; i < TASKS; i++) requests.push(agent.client.post('/v1/tasks', taskBody(i)).catch(() => undefined));
    requests.push(agent.client.post('/v1/tasks', chainBody()).catch(() => undefined));
    if (round >= KILLS / 2) {
      for (let i = 0; i < STOPPED_TASKS; i++) {
        requests.push(agent.client.post('/v1/tasks', { arn: arnOf(i), desiredStatus: 'STOPPED' }).catch(() => undefined));
      }
    }
    // The kill's seeded random moment (not a wait for anything).
    await new Promise((r) => setTimeout(r, Math.floor(random() * 700)));
    await agent.stop('SIGKILL');
    kills++;
    await Promise.all(requests);
  }

  await agent.start();
  for (let i = 0; i < TASKS; i++) await agent.client.post('/v1/tasks', taskBody(i));
  for (let i = 0; i < STOPPED_TASKS; i++) await agent.client.post('/v1/tasks', { arn: arnOf(i), desiredStatus: 'STOPPED' });
  expect((await agent.client.post('/v1/tasks', chainBody())).status).toBeLessThan(300);
  // migrate is not essential: once it exited 0 and the rest run, the task is RUNNING.
  const chain = (await agent.waitForTask(CHAIN_ARN, (t) => t?.knownStatus === 'RUNNING', 120_000))!;
  expect(chain.containers.find((c) => c.name === 'migrate')).toMatchObject({ knownStatus: 'STOPPED', exitCode: 0 });
  // A last kill with the chain up, then its shutdown: dependents first.
  await agent.stop('SIGKILL');
  kills++;
  await agent.start();
  await agent.client.post('/v1/tasks', { arn: CHAIN_ARN, desiredStatus: 'STOPPED' });
  const stoppedChain = (await agent.waitForTask(CHAIN_ARN, (t) => t?.knownStatus === 'STOPPED', 60_000))!;
  const views: TaskView[] = [];
  for (let i = 0; i < TASKS; i++) {
    const want = i < STOPPED_TASKS ? 'STOPPED' : 'RUNNING';
    views.push((await agent.waitForTask(arnOf(i), (t) => t?.knownStatus === want, 90_000))!);
  }

  // Exactly one Docker container per (task, container), and it is the one the agent knows.
  expect(views.flatMap((t) => t.containers.map((c) => c.dockerId)).every((id) => id !== undefined)).toBe(true);
  expectStateMatchesDocker(agent.agentId, [...views, stoppedChain]);
  expect(new Set(views.flatMap((t) => t.containers.map((c) => c.dockerId))).size).toBe(TASKS * 3);

  // Exactly one container was ever made per (task, container): Docker's own create events say so.
  const seen = await dockerEvents.stop();
  const made = seen.filter((e) => e.action === 'create' && e.arn !== CHAIN_ARN).map((e) => `${e.arn} ${e.container}`);
  expect(made.sort()).toEqual(views.flatMap((t) => t.containers.map((c) => `${t.arn} ${c.name}`)).sort());
  expect(seen.filter((e) => e.action === 'create' && e.arn === CHAIN_ARN).map((e) => e.container).sort()).toEqual(['app', 'db', 'edge', 'migrate']);
  expectChainOrder(seen);

  // The feed: consecutive seqs from 1, and no (task, container, status) reported twice.
  const events = await readFeed(agent.client);
  expect(events[0]?.seq).toBe(1);
  expectCleanFeed(events);
  await agent.stop('SIGTERM');
  console.log(`chaos: ${kills} SIGKILLs (${startupKills} during start-up), ${made.length + 4} containers ever created, ${events.length} events, seed ${SEED}`);
}, 600_000);

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { StateChange } from '../../../src/api/events.js';
import type { ContainerState, RestartPolicy, TaskState } from '../../../src/api/task.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { DockerApiError, DockerUnavailableError } from '../../../src/errors.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { openSqliteSaver } from '../../../src/state/sqlite-saver.js';
import { systemClock, type Clock } from '../../../src/util/clock.js';
import { containerDef, IMAGE, taskDef } from '../../support/fixtures.js';
import { running, stopped, trackedEngines, waitForTask } from '../../support/engine-harness.js';

/*
 * Restarts in place on the fake Docker. The engine's clock runs `ahead` of the wall clock the
 * fake Docker keeps its times by, so a container that ran a few milliseconds has, to the engine,
 * run as long as the test says: the restartAttemptPeriod is tested without waiting it out.
 */

const engineFor = trackedEngines(afterEach);
const ARN = 'arn:test:task/restarts';
const POLICY: RestartPolicy = { ignoredExitCodes: [0], restartAttemptPeriod: 300 };
const PERIOD_MS = POLICY.restartAttemptPeriod * 1000;

function aheadClock(): Clock & { ahead: number } {
  const clock = { ...systemClock, ahead: 0, now: () => Date.now() + clock.ahead };
  return clock;
}

const task = taskDef(ARN, [containerDef('app', { restartPolicy: POLICY }), containerDef('side', { essential: false })]);
const app = (t: TaskState): ContainerState => t.containers.find((c) => c.definition.name === 'app')!;
const startsOf = (docker: FakeDocker, id: string): number => docker.calls.filter((c) => c.op === 'start' && c.arg === id).length;
const restartedTo = (n: number) => (t: TaskState): boolean => app(t).knownStatus === 'RUNNING' && app(t).restartCount === n;

/** Resolves once `check` holds (tried every few ms), for what no saved change announces, such as a failed Docker call. */
async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** (container, incarnation, status) of every container event, and (task, status) of every task event. */
function keys(events: readonly StateChange[]): string[] {
  return events.map((e) => (e.type === 'task' ? `task ${e.status}` : `${e.containerName} #${e.restartCount ?? 0} ${e.status}`));
}

async function upAndRunning(clock = aheadClock(), docker = new FakeDocker({ images: [IMAGE] }), saver = new MemorySaver()) {
  const made = engineFor({ clock, docker, saver });
  await made.engine.start();
  await made.engine.addTask({ kind: 'definition', task });
  const t = await waitForTask(made.engine, ARN, running);
  return { ...made, clock, id: app(t).dockerId! };
}

describe('a container with a restartPolicy', () => {
  it('that exits after running the period is restarted in place: the same Docker container started again, no new task, the task still RUNNING', async () => {
    const { engine, docker, clock, id, events } = await upAndRunning();
    clock.ahead = PERIOD_MS;
    docker.crash(id, 3);
    const t = await waitForTask(engine, ARN, restartedTo(1));
    expect(app(t)).toMatchObject({ dockerId: id, restartCount: 1, lastExitCode: 3, knownStatus: 'RUNNING' });
    expect(app(t).lastRestartAt).toBeGreaterThanOrEqual(Date.now() + PERIOD_MS - 5_000);
    expect(t).toMatchObject({ knownStatus: 'RUNNING', desiredStatus: 'RUNNING' });
    expect(docker.calls.filter((c) => c.op === 'create')).toHaveLength(2);
    expect(startsOf(docker, id)).toBe(2);
    expect((await docker.inspectContainer(id)).state).toBe('running');
    expect(engine.listTasks()).toHaveLength(1);
    expect(keys(events.filter((e) => e.containerName === 'app')).slice(-4)).toEqual(['app #0 RUNNING', 'app #0 STOPPED', 'app #1 CREATED', 'app #1 RUNNING']);
    expect(events.filter((e) => e.type === 'task').map((e) => e.status)).toEqual(['PULLED', 'CREATED', 'RUNNING']);
  });

  it.each([
    ['ran 1 s less than the period', PERIOD_MS - 1_000, 3, 'it ran 299 s, less than its restartAttemptPeriod of 300 s'],
    ['exited 0, an ignored code', 10 * PERIOD_MS, 0, "exit code 0 is in its restartPolicy's ignoredExitCodes"],
  ])('that %s is not restarted: it stops as usual, its reason saying why, and (essential) stops the task', async (_what, ahead, code, why) => {
    const { engine, docker, clock, id } = await upAndRunning();
    clock.ahead = ahead;
    docker.crash(id, code);
    const t = await waitForTask(engine, ARN, stopped);
    expect(app(t)).toMatchObject({ knownStatus: 'STOPPED', exitCode: code, reason: { code: 'ContainerExited', message: `container app exited with exit code ${code}; not restarted: ${why}` } });
    expect(app(t)).not.toHaveProperty('restartCount');
    expect(startsOf(docker, id)).toBe(1);
  });

  it('is restarted at most once per period: an exit less than a period after the restart is final', async () => {
    const { engine, docker, clock, id } = await upAndRunning();
    clock.ahead = PERIOD_MS;
    docker.crash(id, 3);
    await waitForTask(engine, ARN, restartedTo(1));
    clock.ahead = PERIOD_MS + PERIOD_MS / 2;
    docker.crash(id, 4);
    const t = await waitForTask(engine, ARN, stopped);
    expect(app(t)).toMatchObject({ exitCode: 4, restartCount: 1, lastExitCode: 3 });
    expect(app(t).reason?.message).toMatch(/^container app exited with exit code 4; not restarted: it ran 1(49|50) s since its last restart, less than its restartAttemptPeriod of 300 s$/);
    expect(startsOf(docker, id)).toBe(2);
  });

  it('restarted many times, the feed never reports the same (container, restartCount, status) twice, and each incarnation moves forward', async () => {
    const { engine, docker, clock, id, events } = await upAndRunning();
    for (let n = 1; n <= 25; n++) {
      clock.ahead += PERIOD_MS;
      docker.crash(id, n % 7 === 0 ? 137 : 1 + (n % 5));
      // Docker's events come again now and then, as after a stream reconnects: they must change nothing.
      if (n % 4 === 0) docker.redeliver(docker.events.slice(-3));
      await waitForTask(engine, ARN, restartedTo(n));
    }
    clock.ahead += 1_000;
    docker.crash(id, 9);
    const t = await waitForTask(engine, ARN, stopped);
    expect(app(t)).toMatchObject({ restartCount: 25, exitCode: 9 });
    const all = keys(events);
    expect(new Set(all).size).toBe(all.length);
    for (let n = 1; n <= 25; n++) {
      expect(all.filter((k) => k.startsWith(`app #${n} `))).toEqual([`app #${n} CREATED`, `app #${n} RUNNING`, `app #${n} STOPPED`]);
    }
    expect(events.filter((e) => e.containerName === 'app' && e.reason === 'ContainerRestarting')).toHaveLength(25);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(startsOf(docker, id)).toBe(26);
  });

  it('essential and restarted, it never stops the task or its other containers', async () => {
    const { engine, docker, clock, id } = await upAndRunning();
    clock.ahead = PERIOD_MS;
    docker.crash(id, 3);
    const t = await waitForTask(engine, ARN, restartedTo(1));
    const side = t.containers.find((c) => c.definition.name === 'side')!;
    expect(side).toMatchObject({ knownStatus: 'RUNNING', desiredStatus: 'RUNNING' });
    expect(docker.calls.filter((c) => c.op === 'stop')).toEqual([]);
  });

  it('a task stop request ends a pending restart: the container is never started again', async () => {
    const clock = aheadClock();
    const made = engineFor({ clock, retry: { backoff: { initialMs: 1_500, maxMs: 1_500, multiplier: 1, jitter: 0 }, maxRetries: 2 } });
    await made.engine.start();
    await made.engine.addTask({ kind: 'definition', task });
    const id = app(await waitForTask(made.engine, ARN, running)).dockerId!;
    // The restart's start fails once and waits out its backoff: the restart is pending. The stop
    // request, made meanwhile, is carried out once the backoff ends, instead of the start.
    made.docker.failNext('start', new DockerUnavailableError('connect ECONNREFUSED'));
    clock.ahead = PERIOD_MS;
    made.docker.crash(id, 3);
    await waitForTask(made.engine, ARN, (t) => app(t).restartCount === 1);
    await until(() => startsOf(made.docker, id) === 2);
    await made.engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    const t = await waitForTask(made.engine, ARN, stopped);
    expect(app(t)).toMatchObject({ knownStatus: 'STOPPED', restartCount: 1, reason: { code: 'TaskStopRequested' } });
    expect(app(t)).not.toHaveProperty('exitCode');
    expect((await made.docker.inspectContainer(id)).state).toBe('exited');
    expect(made.docker.events.filter((e) => e.dockerId === id && e.action === 'start')).toHaveLength(1);
  });

  it('a restart Docker refuses for good follows the start give-up: STOPPED with StartFailed', async () => {
    const { engine, docker, clock, id } = await upAndRunning();
    for (let i = 0; i < 3; i++) docker.failNext('start', new DockerApiError('start', 500, 'driver failed'));
    clock.ahead = PERIOD_MS;
    docker.crash(id, 3);
    const t = await waitForTask(engine, ARN, stopped);
    expect(app(t)).toMatchObject({ knownStatus: 'STOPPED', restartCount: 1, lastExitCode: 3, reason: { code: 'StartFailed' } });
  });
});

describe('restarts and the engine restarting', () => {
  it('a restart decided and saved just before the engine went away happens once, when the next engine starts; the count is on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-restarts-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const docker = new FakeDocker({ images: [IMAGE] });
    const saver = openSqliteSaver(join(dir, 'state.db'));
    const clock = aheadClock();
    const first = engineFor({ clock, docker, saver, retry: { backoff: { initialMs: 60_000, maxMs: 60_000, multiplier: 1, jitter: 0 }, maxRetries: 2 } });
    await first.engine.start();
    await first.engine.addTask({ kind: 'definition', task });
    const id = app(await waitForTask(first.engine, ARN, running)).dockerId!;
    // Docker does not answer the restart's start: the decision is saved, the container still exited.
    docker.failNext('start', new DockerUnavailableError('connect ECONNREFUSED'));
    clock.ahead = PERIOD_MS;
    docker.crash(id, 3);
    await waitForTask(first.engine, ARN, (t) => app(t).restartCount === 1);
    await until(() => startsOf(docker, id) === 2);
    await first.engine.close();
    await saver.close();
    const reopened = openSqliteSaver(join(dir, 'state.db'));
    onTestFinished(() => reopened.close());
    expect(app((await reopened.loadTasks())[0]!)).toMatchObject({ knownStatus: 'CREATED', restartCount: 1, lastExitCode: 3 });

    // The next engine re-reads the exited container: the exit already answered, it only starts it.
    clock.ahead += 10 * PERIOD_MS;
    const second = engineFor({ clock, docker, saver: reopened });
    await second.engine.start();
    const t = await waitForTask(second.engine, ARN, restartedTo(1));
    expect(app(t)).toMatchObject({ dockerId: id, lastExitCode: 3 });
    expect(docker.events.filter((e) => e.dockerId === id && e.action === 'start')).toHaveLength(2);
    expect(keys(second.events)).toEqual(['app #1 RUNNING']);
    await second.engine.close();
  });

  it('a restarted container still running when the engine restarts is adopted as it is: the count holds', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    const saver = new MemorySaver();
    const clock = aheadClock();
    const { engine, id } = await upAndRunning(clock, docker, saver);
    clock.ahead = PERIOD_MS;
    docker.crash(id, 3);
    await waitForTask(engine, ARN, restartedTo(1));
    await engine.close();
    const second = engineFor({ clock, docker, saver });
    await second.engine.start();
    await second.engine.idle();
    const t = await waitForTask(second.engine, ARN, restartedTo(1));
    expect(app(t)).toMatchObject({ restartCount: 1, lastExitCode: 3 });
    expect(startsOf(docker, id)).toBe(2);
    expect(second.events).toEqual([]);
  });
});

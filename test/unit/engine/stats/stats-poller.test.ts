import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TaskState } from '../../../../src/api/task.js';
import { FakeDocker } from '../../../../src/docker/fake-docker.js';
import { FAKE_HOST_MEMORY_BYTES } from '../../../../src/docker/fake-stats.js';
import { StatsPoller } from '../../../../src/engine/stats/stats-poller.js';
import { DockerApiError } from '../../../../src/errors.js';
import { systemClock } from '../../../../src/util/clock.js';
import { IMAGE, taskAt } from '../../../support/fixtures.js';
import { recordingLogger } from '../../../support/recording-logger.js';

const INTERVAL = 1_000;

describe('StatsPoller', () => {
  let docker: FakeDocker;
  let tasks: TaskState[];
  let logged: string[];
  let poller: StatsPoller;

  beforeEach(async () => {
    vi.useFakeTimers();
    docker = new FakeDocker({ images: [IMAGE] });
    await docker.pullImage(IMAGE);
    tasks = [];
  });
  afterEach(async () => {
    await poller?.stop();
    vi.useRealTimers();
  });

  const start = (policy: { maxTasks?: number; concurrency?: number } = {}): StatsPoller => {
    const { log, lines } = recordingLogger();
    logged = lines;
    poller = new StatsPoller(docker, () => tasks, {
      clock: systemClock,
      policy: { intervalMs: INTERVAL, maxTasks: policy.maxTasks ?? 10, concurrency: policy.concurrency ?? 4 },
      log,
    });
    poller.start();
    return poller;
  };

  /** A task of `family` whose one container `app` runs in the fake Docker. */
  const runningTask = async (arn: string, family = 'web', memoryBytes?: number): Promise<TaskState> => {
    const id = await docker.createContainer({ name: `c-${arn.replace(/\W/g, '')}`, image: IMAGE, env: {}, labels: {}, portMappings: [], stopTimeout: 1, ...(memoryBytes ? { memoryBytes } : {}) });
    await docker.startContainer(id);
    const task = { ...taskAt({ app: ['RUNNING', { dockerId: id }] }), arn, family };
    tasks.push(task);
    return task;
  };
  const stopped = (task: TaskState): TaskState => ({ ...task, containers: task.containers.map((c) => ({ ...c, knownStatus: 'STOPPED' as const })) });
  const statsCalls = (): number => docker.calls.filter((c) => c.op === 'stats').length;

  it('samples every running container each interval; CPU % comes from two samples, memory from the last', async () => {
    const a = await runningTask('arn:a', 'web', 256 * 1024 ** 2);
    await runningTask('arn:b', 'worker');
    start();
    await vi.advanceTimersByTimeAsync(0);
    const first = poller.latest();
    expect(first.map((u) => [u.taskArn, u.taskFamily, u.container])).toEqual([
      ['arn:a', 'web', 'app'],
      ['arn:b', 'worker', 'app'],
    ]);
    expect(first[0]).toMatchObject({ cpuPercent: null, memoryUsageBytes: 4 * 1024 ** 2, memoryLimitBytes: 256 * 1024 ** 2, dockerId: a.containers[0]!.dockerId });
    expect(first[1]!.memoryLimitBytes).toBe(FAKE_HOST_MEMORY_BYTES);

    // The fake's busy process: 10 ms of CPU per read against 40 ms of its two CPUs.
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(poller.latest().map((u) => u.cpuPercent)).toEqual([50, 50]);
    expect(statsCalls()).toBe(4);

    docker.setStats(a.containers[0]!.dockerId!, { memoryUsageBytes: 99, network: { rxBytes: 10, txBytes: 20 }, blockIo: { readBytes: 30, writeBytes: 40 } });
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(poller.latest()[0]).toMatchObject({ memoryUsageBytes: 99, network: { rxBytes: 10, txBytes: 20 }, blockIo: { readBytes: 30, writeBytes: 40 }, sampledAt: Date.now() });
    expect(poller.usageOfTask(tasks[1]!).map((u) => u.taskArn)).toEqual(['arn:b']);
    expect(poller.status()).toEqual({ enabled: true, intervalMs: INTERVAL });
  });

  it('drops a container at once when it stops or its task goes, and samples it no more', async () => {
    const a = await runningTask('arn:a');
    const b = await runningTask('arn:b');
    start();
    await vi.advanceTimersByTimeAsync(0);
    expect(poller.latest()).toHaveLength(2);
    tasks = [stopped(a), b];
    expect(poller.latest().map((u) => u.taskArn)).toEqual(['arn:b']);
    expect(poller.usageOfTask(tasks[0]!)).toEqual([]);
    tasks = [b];
    const before = statsCalls();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(statsCalls()).toBe(before + 1);
    expect(docker.calls.at(-1)).toEqual({ op: 'stats', arg: b.containers[0]!.dockerId });
  });

  it('is off while more tasks than statsMaxTasks have a running container, saying so once, and on again below', async () => {
    const a = await runningTask('arn:a');
    await runningTask('arn:b');
    start({ maxTasks: 1 });
    await vi.advanceTimersByTimeAsync(INTERVAL * 3);
    expect(statsCalls()).toBe(0);
    expect(poller.latest()).toEqual([]);
    expect(poller.status()).toEqual({ enabled: false, intervalMs: INTERVAL, detail: 'off while more than 1 tasks have a running container (now 2)' });
    expect(logged.filter((l) => l.includes('Container stats are off'))).toHaveLength(1);

    tasks = [stopped(a), tasks[1]!];
    await vi.advanceTimersByTimeAsync(INTERVAL * 3);
    expect(statsCalls()).toBe(3);
    expect(poller.latest().map((u) => u.taskArn)).toEqual(['arn:b']);
    expect(poller.status().enabled).toBe(true);
    expect(logged.filter((l) => l.includes('Container stats are on again'))).toHaveLength(1);

    await runningTask('arn:c');
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(poller.latest()).toEqual([]);
    expect(logged.filter((l) => l.includes('Container stats are off'))).toHaveLength(2);
  });

  it('never calls Docker with statsMaxTasks 0', async () => {
    await runningTask('arn:a');
    start({ maxTasks: 0 });
    await vi.advanceTimersByTimeAsync(INTERVAL * 3);
    expect(statsCalls()).toBe(0);
    expect(poller.status()).toMatchObject({ enabled: false, detail: 'off by configuration (stats max tasks 0)' });
  });

  it('shows no stale figure for a container Docker failed to answer for, and warns once per failing streak', async () => {
    const a = await runningTask('arn:a');
    start();
    await vi.advanceTimersByTimeAsync(0);
    expect(poller.latest()).toHaveLength(1);
    docker.failNext('stats', new DockerApiError('stats', 500, 'boom'));
    docker.failNext('stats', new DockerApiError('stats', 500, 'boom'));
    await vi.advanceTimersByTimeAsync(INTERVAL * 2);
    expect(poller.latest()).toEqual([]);
    const warnings = logged.filter((l) => l.includes('Could not read container stats'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ taskArn: 'arn:a', container: 'app', dockerId: a.containers[0]!.dockerId, failed: 1 });
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(poller.latest()).toHaveLength(1);
  });

  it('keeps at most `concurrency` Docker calls in flight', async () => {
    for (const arn of ['arn:a', 'arn:b', 'arn:c']) await runningTask(arn);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    docker.delayNext('stats', gate);
    docker.delayNext('stats', gate);
    start({ concurrency: 2 });
    await vi.advanceTimersByTimeAsync(0);
    expect(statsCalls()).toBe(2);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(statsCalls()).toBe(3);
    expect(poller.latest()).toHaveLength(3);
  });

  it('ends a pass in flight when stopped', async () => {
    await runningTask('arn:a');
    docker.delayNext('stats', new Promise(() => {}));
    start();
    await vi.advanceTimersByTimeAsync(0);
    await poller.stop();
    expect(poller.latest()).toEqual([]);
  });
});

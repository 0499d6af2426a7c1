import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TaskState } from '../../../src/api/task.js';
import { EtcdLink } from '../../../src/fleet/etcd-link.js';
import { FakeEtcd } from '../../../src/fleet/fake-etcd.js';
import { StatusWriter, type TaskFeed } from '../../../src/fleet/status-writer.js';
import { silentLogger } from '../../../src/log/logger.js';
import { systemClock } from '../../../src/util/clock.js';
import { taskAt } from '../../support/fixtures.js';

const KEY = '/berth/hosts/h1/status/arn:test:task/t1';

/** A feed the test drives: `commit` is a saved task value, as the engine's onCommit gives it. */
function manualFeed(initial: TaskState[] = []): TaskFeed & { commit(arn: string, task: TaskState | undefined): void } {
  let listener: ((arn: string, task: TaskState | undefined) => void) | undefined;
  return {
    listTasks: () => initial,
    onCommit: (l) => {
      listener = l;
      return () => (listener = undefined);
    },
    commit: (arn, task) => listener?.(arn, task),
  };
}

describe('StatusWriter', () => {
  let etcd: FakeEtcd;
  let writer: StatusWriter;
  let link: EtcdLink;
  const written: string[] = [];

  beforeEach(() => {
    vi.useFakeTimers();
    etcd = new FakeEtcd(systemClock);
    link = new EtcdLink(systemClock);
    written.length = 0;
    writer = new StatusWriter({
      client: etcd,
      prefix: '/berth',
      host: 'h1',
      clock: systemClock,
      random: () => 0.5,
      intervalMs: 1_000,
      backoff: { initialMs: 500, maxMs: 4_000, multiplier: 2, jitter: 0 },
      log: silentLogger(),
      link,
      onWritten: (arn) => written.push(arn),
    });
  });
  afterEach(async () => {
    await writer.stop();
    vi.useRealTimers();
  });

  const puts = (): unknown[] => etcd.puts.filter((p) => p.key === KEY).map((p) => JSON.parse(p.value) as unknown);

  it('writes the status JSON: arn, known and desired status, containers with ids, exit codes and reasons, updatedAt', async () => {
    const feed = manualFeed();
    await writer.start(feed);
    feed.commit('arn:test:task/t1', taskAt({ app: 'RUNNING', side: ['STOPPED', { exitCode: 3, dockerId: 'd2', reason: { code: 'EssentialContainerExited', message: 'side exited' } as never }] }, { nonEssential: ['side'] }));
    await vi.advanceTimersByTimeAsync(0);
    expect(JSON.parse(etcd.get(KEY)!)).toEqual({
      arn: 'arn:test:task/t1',
      generation: 1,
      knownStatus: 'RUNNING',
      desiredStatus: 'RUNNING',
      containers: [
        { name: 'app', dockerId: expect.any(String), knownStatus: 'RUNNING' },
        { name: 'side', dockerId: 'd2', knownStatus: 'STOPPED', exitCode: 3, reason: { code: 'EssentialContainerExited', message: 'side exited' } },
      ],
      updatedAt: new Date(1_000).toISOString(),
    });
  });

  it('writes at most once a second per task, the latest value last (a trailing write)', async () => {
    const feed = manualFeed();
    await writer.start(feed);
    feed.commit('arn:test:task/t1', taskAt({ app: 'PULLED' }));
    await vi.advanceTimersByTimeAsync(0);
    expect(puts()).toHaveLength(1);
    feed.commit('arn:test:task/t1', taskAt({ app: 'CREATED' }));
    feed.commit('arn:test:task/t1', taskAt({ app: 'RUNNING' }));
    await vi.advanceTimersByTimeAsync(500);
    expect(puts()).toHaveLength(1);
    expect(writer.pending()).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(puts().map((p) => (p as { knownStatus: string }).knownStatus)).toEqual(['PULLED', 'RUNNING']);
    expect(writer.pending()).toBe(0);
    // Another task is not held back by the first one's interval.
    feed.commit('arn:test:task/t2', { ...taskAt({ app: 'RUNNING' }), arn: 'arn:test:task/t2' });
    await vi.advanceTimersByTimeAsync(0);
    expect(written).toEqual(['arn:test:task/t1', 'arn:test:task/t1', 'arn:test:task/t2']);
  });

  it('does not write a saved value whose status did not change', async () => {
    const feed = manualFeed();
    await writer.start(feed);
    const t = taskAt({ app: 'RUNNING' });
    feed.commit(t.arn, t);
    await vi.advanceTimersByTimeAsync(2_000);
    feed.commit(t.arn, { ...t, updatedAt: 5_000 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(puts()).toHaveLength(1);
  });

  it('deletes the key when the task leaves the state', async () => {
    const feed = manualFeed();
    await writer.start(feed);
    const t = taskAt({ app: 'STOPPED' });
    feed.commit(t.arn, t);
    await vi.advanceTimersByTimeAsync(0);
    expect(etcd.get(KEY)).toBeDefined();
    feed.commit(t.arn, undefined);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(etcd.get(KEY)).toBeUndefined();
  });

  it('at start writes every task and deletes status keys of tasks it no longer has', async () => {
    await etcd.put('/berth/hosts/h1/status/arn:test:task/gone', '{}');
    await etcd.put('/berth/hosts/h2/status/arn:test:task/gone', '{}');
    await writer.start(manualFeed([taskAt({ app: 'RUNNING' })]));
    await vi.advanceTimersByTimeAsync(0);
    expect(etcd.get(KEY)).toBeDefined();
    expect(etcd.get('/berth/hosts/h1/status/arn:test:task/gone')).toBeUndefined();
    expect(etcd.get('/berth/hosts/h2/status/arn:test:task/gone')).toBe('{}');
  });

  it('while etcd is down keeps the latest value pending, reports the link down, and writes it once etcd is back', async () => {
    const feed = manualFeed();
    await writer.start(feed);
    etcd.down();
    feed.commit('arn:test:task/t1', taskAt({ app: 'CREATED' }));
    await vi.advanceTimersByTimeAsync(0);
    expect(writer.pending()).toBe(1);
    expect(link.up()).toBe(false);
    feed.commit('arn:test:task/t1', taskAt({ app: 'RUNNING' }));
    await vi.advanceTimersByTimeAsync(500 + 1_000);
    expect(writer.pending()).toBe(1);
    etcd.up();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(puts().map((p) => (p as { knownStatus: string }).knownStatus)).toEqual(['RUNNING']);
    expect(writer.pending()).toBe(0);
    expect(link.up()).toBe(true);
  });

  it('keeps at most `concurrency` writes in flight when many tasks change at once, and writes each one', async () => {
    let inFlight = 0;
    let most = 0;
    const slow = Object.create(etcd) as FakeEtcd;
    slow.put = async (key: string, value: string) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 10));
      inFlight--;
      return etcd.put(key, value);
    };
    const capped = new StatusWriter({ client: slow, prefix: '/berth', host: 'h1', clock: systemClock, random: () => 0.5, intervalMs: 1_000, backoff: { initialMs: 500, maxMs: 4_000, multiplier: 2, jitter: 0 }, log: silentLogger(), concurrency: 4 });
    const tasks = Array.from({ length: 50 }, (_, i) => ({ ...taskAt({ app: 'RUNNING' }), arn: `arn:test:task/n${i}` }));
    await capped.start(manualFeed(tasks));
    await vi.advanceTimersByTimeAsync(500);
    expect(most).toBe(4);
    expect(capped.pending()).toBe(0);
    expect(etcd.puts.filter((p) => p.key.startsWith('/berth/hosts/h1/status/arn:test:task/n'))).toHaveLength(50);
    await capped.stop();
  });
});

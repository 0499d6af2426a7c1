import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NewStateChange, StateChange } from '../../../src/api/events.js';
import { RouteDeliveryError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { RouteBackend } from '../../../src/routes/route-backend.js';
import type { RouteConfig } from '../../../src/routes/route-config.js';
import type { RouteProgress } from '../../../src/routes/route-progress.js';
import type { RouteRecord } from '../../../src/routes/route-record.js';
import { RouteRunner, type ProgressStore, type RouteFeed } from '../../../src/routes/route-runner.js';
import { systemClock } from '../../../src/util/clock.js';

/** The durable feed, in memory: `publish` appends; `prune` drops the oldest, as retention does. */
class MemoryFeed implements RouteFeed {
  events: StateChange[] = [];
  private seq = 0;
  private readonly listeners = new Set<() => void>();
  publish(...events: NewStateChange[]): StateChange[] {
    const saved = events.map((e) => ({ ...e, seq: ++this.seq }));
    this.events.push(...saved);
    for (const l of this.listeners) l();
    return saved;
  }
  prune(upTo: number): void {
    this.events = this.events.filter((e) => e.seq > upTo);
  }
  async eventsAfter(after: number, limit: number): Promise<StateChange[]> {
    return this.events.filter((e) => e.seq > after).slice(0, limit);
  }
  publishedSeq(): number {
    return this.seq;
  }
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

class MemoryProgress implements ProgressStore {
  readonly saved = new Map<string, RouteProgress>();
  async load(route: string) {
    return this.saved.get(route);
  }
  async save(route: string, p: RouteProgress) {
    this.saved.set(route, p);
  }
}

/** A backend that records what it took; `refuse` decides, per record, to throw instead. */
class RecordingBackend implements RouteBackend {
  readonly describe = 'memory';
  readonly got: RouteRecord[] = [];
  refuse: (r: RouteRecord) => RouteDeliveryError | undefined = () => undefined;
  hold: ((r: RouteRecord) => Promise<void> | undefined) = () => undefined;
  async deliver(record: RouteRecord, signal: AbortSignal): Promise<void> {
    const held = this.hold(record);
    if (held) {
      await Promise.race([held, new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))))]);
    }
    const error = this.refuse(record);
    if (error) throw error;
    this.got.push(record);
  }
  async close() {}
}

const route = (extra: Partial<RouteConfig> = {}): RouteConfig => ({
  name: 'r',
  filter: { labels: { tier: 'web' } },
  fullEvents: false,
  backend: { type: 'file', path: '/dev/null' },
  retry: { initialMs: 1, maxMs: 4, multiplier: 2, jitter: 0 },
  ...extra,
});

let n = 0;
function started(task: string, labels: Record<string, string> = { tier: 'web' }, action: 'start' | 'stop' | 'none' = 'start'): NewStateChange {
  n++;
  return {
    type: 'container',
    taskArn: task,
    containerName: 'app',
    dockerId: `${task}-${n}`.padEnd(64, '0'),
    status: action === 'stop' ? 'STOPPED' : 'RUNNING',
    ...(action === 'none' ? {} : { action }),
    service: 'web/app',
    labels,
    at: '2026-12-02T00:00:00.000Z',
  };
}

const runners: RouteRunner[] = [];
function runner(feed: MemoryFeed, backend: RecordingBackend, progress: MemoryProgress, cfg = route(), concurrency = 1): RouteRunner {
  const r = new RouteRunner({ route: cfg, backend, feed, progress, clock: systemClock, random: () => 0.5, log: silentLogger(), concurrency });
  runners.push(r);
  return r;
}

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

describe('RouteRunner', () => {
  it('delivers the matching actions once, in feed order, and resumes after a restart where it stopped', async () => {
    const feed = new MemoryFeed();
    const backend = new RecordingBackend();
    const progress = new MemoryProgress();
    const first = runner(feed, backend, progress);
    await first.start();
    feed.publish(started('a'), started('b', { tier: 'db' }), started('a', { tier: 'web' }, 'stop'), started('c', { tier: 'web' }, 'none'));
    await vi.waitFor(() => expect(first.status()).toMatchObject({ seq: 4, lag: 0, delivered: 2 }));
    expect(backend.got.map((r) => [r.seq, r.kind === 'action' && r.action])).toEqual([[1, 'start'], [3, 'stop']]);
    await first.stop();
    expect(progress.saved.get('r')).toMatchObject({ seq: 4, delivered: 2 });

    const second = runner(feed, backend, progress);
    await second.start();
    feed.publish(started('d'));
    await vi.waitFor(() => expect(second.status()).toMatchObject({ seq: 5, delivered: 3 }));
    expect(backend.got.map((r) => r.seq)).toEqual([1, 3, 5]);
  });

  it('a record is whole: id, task, name, service, labels, bindings and status; full events come after it when asked for', async () => {
    const feed = new MemoryFeed();
    const backend = new RecordingBackend();
    const r = runner(feed, backend, new MemoryProgress(), route({ filter: { labels: {} }, fullEvents: true }));
    await r.start();
    const [saved] = feed.publish({ ...started('a'), portBindings: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1' }] });
    feed.publish({ type: 'task', taskArn: 'a', status: 'RUNNING', at: 'T' });
    await vi.waitFor(() => expect(backend.got).toHaveLength(3));
    expect(backend.got[0]).toEqual({
      kind: 'action',
      seq: 1,
      action: 'start',
      at: saved!.at,
      container: { id: saved!.dockerId, task: 'a', name: 'app', service: 'web/app', labels: { tier: 'web' }, bindings: saved!.portBindings, status: 'RUNNING' },
    });
    expect(backend.got.slice(1).map((x) => [x.kind, x.seq])).toEqual([['event', 1], ['event', 2]]);
  });

  it('retries a failing backend with backoff, counting failures, and delivers once it recovers', async () => {
    const feed = new MemoryFeed();
    const backend = new RecordingBackend();
    let failures = 3;
    backend.refuse = () => (failures-- > 0 ? new RouteDeliveryError('r', 'answered 503', { retryable: true }) : undefined);
    const r = runner(feed, backend, new MemoryProgress());
    await r.start();
    feed.publish(started('a'), started('b'));
    await vi.waitFor(() => expect(backend.got.map((x) => x.seq)).toEqual([1, 2]));
    expect(r.status()).toMatchObject({ delivered: 2, failures: 3, dropped: 0, lastError: { message: 'route r: answered 503' } });
    expect(r.status().failingSince).toBeUndefined();
  });

  it('drops a record the backend refuses for good, counts it, and goes on', async () => {
    const feed = new MemoryFeed();
    const backend = new RecordingBackend();
    backend.refuse = (rec) => (rec.seq === 1 ? new RouteDeliveryError('r', 'answered 400', { retryable: false }) : undefined);
    const r = runner(feed, backend, new MemoryProgress());
    await r.start();
    feed.publish(started('a'), started('b'));
    await vi.waitFor(() => expect(r.status()).toMatchObject({ seq: 2, delivered: 1, dropped: 1 }));
    expect(backend.got.map((x) => x.seq)).toEqual([2]);
  });

  it('with concurrency, one task waiting holds neither the others nor its own order; the cursor waits for it', async () => {
    const feed = new MemoryFeed();
    const backend = new RecordingBackend();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    backend.hold = (rec) => (rec.seq === 1 ? gate : undefined);
    const r = runner(feed, backend, new MemoryProgress(), route(), 4);
    await r.start();
    feed.publish(started('slow'), started('fast'), started('slow', { tier: 'web' }, 'stop'), started('fast', { tier: 'web' }, 'stop'));
    await vi.waitFor(() => expect(backend.got.map((x) => x.seq)).toEqual([2, 4]));
    expect(r.cursor()).toBe(0);
    release();
    await vi.waitFor(() => expect(r.cursor()).toBe(4));
    expect(backend.got.map((x) => x.seq)).toEqual([2, 4, 1, 3]);
  });

  it('records a gap when retention pruned events it had not delivered', async () => {
    const feed = new MemoryFeed();
    const backend = new RecordingBackend();
    feed.publish(started('a'), started('b'), started('c'));
    feed.prune(2);
    const r = runner(feed, backend, new MemoryProgress());
    await r.start();
    await vi.waitFor(() => expect(r.status()).toMatchObject({ seq: 3, gapEvents: 2, gapThisRun: true, lastGap: { from: 1, to: 2 } }));
    expect(backend.got.map((x) => x.seq)).toEqual([3]);
  });

  it('stopping mid-delivery leaves the record undelivered; the next start delivers it with the same seq', async () => {
    const feed = new MemoryFeed();
    const backend = new RecordingBackend();
    const progress = new MemoryProgress();
    backend.hold = () => new Promise(() => undefined);
    const first = runner(feed, backend, progress);
    await first.start();
    feed.publish(started('a'));
    await vi.waitFor(() => expect(first.status().lag).toBe(1));
    await first.stop();
    expect(progress.saved.get('r')?.seq ?? 0).toBe(0);
    backend.hold = () => undefined;
    const second = runner(feed, backend, progress);
    await second.start();
    await vi.waitFor(() => expect(backend.got.map((x) => x.seq)).toEqual([1]));
  });
});

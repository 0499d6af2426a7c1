import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_PARSE_OPTIONS } from '../../../src/api/schema.js';
import { EtcdLink } from '../../../src/fleet/etcd-link.js';
import { FakeEtcd } from '../../../src/fleet/fake-etcd.js';
import { silentLogger } from '../../../src/log/logger.js';
import { EtcdSource } from '../../../src/sources/etcd/etcd-source.js';
import type { SourceItemError, SourceSink, SourceUpdate } from '../../../src/sources/task-source.js';
import { systemClock } from '../../../src/util/clock.js';

const PREFIX = '/berth';
const KEYS = '/berth/hosts/h1/tasks/';

function task(family: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ family, version: '1', containers: [{ name: 'app', image: 'busybox', command: ['sleep', '60'] }], ...extra });
}

/** A sink that keeps every update, printed short, and the latest error list. */
function recordingSink(): SourceSink & { updates: string[]; errorLists: SourceItemError[][] } {
  const updates: string[] = [];
  const errorLists: SourceItemError[][] = [];
  const show = (u: SourceUpdate): string =>
    u.op === 'SET'
      ? `SET@${u.revision} [${u.tasks.map((t) => t.definition.arn).join(',')}]`
      : u.op === 'ADD'
        ? `ADD@${u.revision} ${u.task.definition.arn} from ${u.task.origin}`
        : `REMOVE@${u.revision} ${u.arn}`;
  return { updates, errorLists, update: (u) => void updates.push(show(u)), errors: (e) => void errorLists.push([...e]) };
}

describe('EtcdSource', () => {
  let etcd: FakeEtcd;
  let sink: ReturnType<typeof recordingSink>;
  let source: EtcdSource;
  let link: EtcdLink;

  beforeEach(() => {
    vi.useFakeTimers();
    etcd = new FakeEtcd(systemClock);
    sink = recordingSink();
    link = new EtcdLink(systemClock);
    source = new EtcdSource({
      client: etcd,
      prefix: PREFIX,
      host: 'h1',
      parse: DEFAULT_PARSE_OPTIONS,
      clock: systemClock,
      random: () => 0.5,
      backoff: { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0 },
      log: silentLogger(),
      link,
    });
  });
  afterEach(async () => {
    await source.stop();
    vi.useRealTimers();
  });

  it('lists its host’s prefix as one SET at the listed revision, other hosts’ keys left out', async () => {
    await etcd.put(`${KEYS}web`, task('web'));
    await etcd.put(`${KEYS}db`, task('db'));
    await etcd.put('/berth/hosts/h2/tasks/other', task('other'));
    await source.start(sink, {});
    expect(sink.updates).toEqual([`SET@${etcd.currentRevision()} [arn:berth:task/db:1,arn:berth:task/web:1]`]);
    expect(sink.errorLists).toEqual([[]]);
    expect(source.lastRevision()).toBe(etcd.currentRevision());
  });

  it('lists even when started with a saved revision (the merger makes a same-set SET a no-op)', async () => {
    await etcd.put(`${KEYS}web`, task('web'));
    await source.start(sink, { revision: '1' });
    expect(sink.updates).toEqual([`SET@2 [arn:berth:task/web:1]`]);
  });

  it('then turns puts into ADDs and deletes into REMOVEs, each with its revision; a YAML value is taken too', async () => {
    await source.start(sink, {});
    await vi.advanceTimersByTimeAsync(0);
    await etcd.put(`${KEYS}web`, task('web'));
    await etcd.put(`${KEYS}db`, 'family: db\nversion: "1"\ncontainers:\n  - name: app\n    image: busybox\n');
    await etcd.delete(`${KEYS}web`);
    await etcd.put('/berth/hosts/h2/tasks/other', task('other'));
    expect(sink.updates).toEqual([
      'SET@1 []',
      `ADD@2 arn:berth:task/web:1 from ${KEYS}web`,
      `ADD@3 arn:berth:task/db:1 from ${KEYS}db`,
      'REMOVE@4 arn:berth:task/web:1',
    ]);
  });

  it('a key whose arn changes removes the old arn', async () => {
    await etcd.put(`${KEYS}web`, task('web'));
    await source.start(sink, {});
    await vi.advanceTimersByTimeAsync(0);
    await etcd.put(`${KEYS}web`, task('web', { version: '2' }));
    expect(sink.updates.slice(1)).toEqual(['REMOVE@3 arn:berth:task/web:1', `ADD@3 arn:berth:task/web:2 from ${KEYS}web`]);
  });

  it('after a broken watch resumes after the last revision: nothing replayed, nothing missed', async () => {
    await etcd.put(`${KEYS}a`, task('a'));
    await source.start(sink, {});
    await vi.advanceTimersByTimeAsync(0);
    await etcd.put(`${KEYS}b`, task('b'));
    etcd.down();
    expect(link.up()).toBe(false);
    etcd.up();
    // Written while the source was not watching.
    await etcd.put(`${KEYS}c`, task('c'));
    await etcd.delete(`${KEYS}a`);
    await vi.advanceTimersByTimeAsync(100);
    expect(sink.updates).toEqual(['SET@2 [arn:berth:task/a:1]', `ADD@3 arn:berth:task/b:1 from ${KEYS}b`, `ADD@4 arn:berth:task/c:1 from ${KEYS}c`, 'REMOVE@5 arn:berth:task/a:1']);
    expect(link.up()).toBe(true);
  });

  it('keeps retrying with backoff while etcd is down, and catches up once it is back', async () => {
    etcd.down();
    await source.start(sink, {});
    await vi.advanceTimersByTimeAsync(100 + 200 + 400);
    expect(sink.updates).toEqual([]);
    expect(link.check()).toMatchObject({ ok: false, detail: expect.stringContaining('fake etcd is down') });
    etcd.up();
    await etcd.put(`${KEYS}a`, task('a'));
    await vi.advanceTimersByTimeAsync(800);
    expect(sink.updates).toEqual(['SET@2 [arn:berth:task/a:1]']);
  });

  it('after a compaction past its revision lists again (a SET)', async () => {
    await etcd.put(`${KEYS}a`, task('a'));
    await source.start(sink, {});
    await vi.advanceTimersByTimeAsync(0);
    etcd.down();
    etcd.up();
    await etcd.put(`${KEYS}b`, task('b'));
    await etcd.delete(`${KEYS}a`);
    etcd.compact();
    await vi.advanceTimersByTimeAsync(100);
    expect(sink.updates).toEqual(['SET@2 [arn:berth:task/a:1]', 'SET@4 [arn:berth:task/b:1]']);
  });

  it('reports a bad value naming its key with the API’s message, keeps the last good task, and clears the error once fixed', async () => {
    await etcd.put(`${KEYS}web`, task('web'));
    await etcd.put(`${KEYS}junk`, '{"family": "junk", "containers": [{"name": "app"}]}');
    await source.start(sink, {});
    await vi.advanceTimersByTimeAsync(0);
    expect(sink.updates).toEqual(['SET@3 [arn:berth:task/web:1]']);
    expect(sink.errorLists.at(-1)).toEqual([{ origin: `${KEYS}junk`, message: expect.stringMatching(/containers\[0\]\.image/) }]);
    await etcd.put(`${KEYS}web`, 'containers: [not: valid');
    expect(sink.updates).toHaveLength(1);
    expect(sink.errorLists.at(-1)!.map((e) => e.origin)).toEqual([`${KEYS}junk`, `${KEYS}web`]);
    expect(sink.errorLists.at(-1)![1]!.message).toMatch(/neither valid JSON nor valid YAML/);
    await etcd.put(`${KEYS}web`, task('web'));
    await etcd.delete(`${KEYS}junk`);
    expect(sink.errorLists.at(-1)).toEqual([]);
  });
});

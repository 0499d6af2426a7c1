import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TaskState } from '../../../src/api/task.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { ImageCleaner, type ImageCleanupPolicy } from '../../../src/engine/image-cleanup/image-cleaner.js';
import { containerSpec } from '../../../src/engine/container-spec.js';
import { ImageRecords } from '../../../src/engine/images/image-records.js';
import { newTaskState } from '../../../src/engine/task-state.js';
import { silentLogger } from '../../../src/log/logger.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { systemClock } from '../../../src/util/clock.js';
import { recordingLogger } from '../../support/recording-logger.js';
import { containerDef, taskDef } from '../../support/fixtures.js';

const MIN = 60_000;
const POLICY: ImageCleanupPolicy = { intervalMs: 30 * MIN, minimumAgeMs: 60 * MIN, perPass: 5, exclude: [] };
const ref = (n: number): string => `registry.test:5000/berth/variant:${n}`;

afterEach(() => vi.useRealTimers());

interface Setup {
  docker: FakeDocker;
  records: ImageRecords;
  saver: MemorySaver;
  cleaner: ImageCleaner;
  tasks: TaskState[];
  pulling: Set<string>;
  lines: string[];
}

/** `count` images pulled and noted one minute apart (image 0 the least recently used), then two hours pass. */
async function setup(count: number, policy: Partial<ImageCleanupPolicy> = {}): Promise<Setup> {
  vi.useFakeTimers({ now: 1_000 * MIN });
  const docker = new FakeDocker({ images: Array.from({ length: count }, (_, i) => ref(i)) });
  const saver = new MemorySaver();
  const records = new ImageRecords(saver, silentLogger());
  await records.load();
  for (let i = 0; i < count; i++) {
    await docker.pullImage(ref(i));
    await records.notePulled(ref(i), { imageId: (await docker.inspectImage(ref(i))).id }, Date.now());
    vi.setSystemTime(Date.now() + MIN);
  }
  vi.setSystemTime(Date.now() + 2 * 60 * MIN);
  const tasks: TaskState[] = [];
  const pulling = new Set<string>();
  const { log, lines } = recordingLogger();
  const cleaner = new ImageCleaner(docker, records, { tasks: () => tasks, isPulling: (r) => pulling.has(r) }, { clock: systemClock, policy: { ...POLICY, ...policy }, log });
  return { docker, records, saver, cleaner, tasks, pulling, lines };
}

const present = (docker: FakeDocker, count: number): number[] => Array.from({ length: count }, (_, i) => i).filter((i) => docker.hasImage(ref(i)));
const taskUsing = (arn: string, image: string): TaskState => newTaskState(taskDef(arn, [containerDef('app', { image })]), Date.now(), 'agent');

describe('ImageCleaner', () => {
  it('runs every interval, removing at most perPass a pass, least recently used first, and forgets their records', async () => {
    const s = await setup(7);
    s.cleaner.start();
    await vi.advanceTimersByTimeAsync(29 * MIN);
    expect(present(s.docker, 7)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    await vi.advanceTimersByTimeAsync(2 * MIN);
    expect(present(s.docker, 7)).toEqual([5, 6]);
    expect(s.records.all().map((r) => r.ref)).toEqual([ref(5), ref(6)]);
    expect((await s.saver.loadImages()).map((r) => r.ref)).toEqual([ref(5), ref(6)]);
    await vi.advanceTimersByTimeAsync(30 * MIN);
    await s.cleaner.stop();
    expect(present(s.docker, 7)).toEqual([]);
    expect(s.docker.calls.filter((c) => c.op === 'image-remove').map((c) => c.arg)).toEqual([0, 1, 2, 3, 4, 5, 6].map(ref));
  });

  it('keeps an image used within the minimum age, and removes it once that has passed', async () => {
    const s = await setup(2);
    await s.records.noteUsed(ref(0), undefined, Date.now() - 20 * MIN);
    expect(await s.cleaner.runOnce()).toHaveLength(1);
    expect(present(s.docker, 2)).toEqual([0]);
    vi.setSystemTime(Date.now() + 39 * MIN);
    expect(await s.cleaner.runOnce()).toEqual([]);
    vi.setSystemTime(Date.now() + 2 * MIN);
    await s.cleaner.runOnce();
    expect(present(s.docker, 2)).toEqual([]);
  });

  it('never removes an image a task of the agent references, at any status, nor one being pulled, nor an excluded one', async () => {
    const s = await setup(4, { exclude: [ref(2)] });
    s.tasks.push(taskUsing('arn:running', ref(0)), { ...taskUsing('arn:stopped', ref(1)), knownStatus: 'STOPPED', desiredStatus: 'STOPPED' });
    s.pulling.add(ref(3));
    expect(await s.cleaner.runOnce()).toEqual([]);
    expect(present(s.docker, 4)).toEqual([0, 1, 2, 3]);
    expect(s.lines.filter((l) => l.includes('Keeping image')).map((l) => JSON.parse(l).reason as string)).toEqual(['in-use', 'in-use', 'excluded', 'pulling']);
    s.tasks.splice(0);
    s.pulling.clear();
    await s.cleaner.runOnce();
    expect(present(s.docker, 4)).toEqual([2]);
  });

  it('never removes an image the agent does not track', async () => {
    const s = await setup(1);
    s.docker.publishImage('registry.test:5000/operator/own:1');
    await s.docker.pullImage('registry.test:5000/operator/own:1');
    await s.cleaner.runOnce();
    expect(s.docker.hasImage(ref(0))).toBe(false);
    expect(s.docker.hasImage('registry.test:5000/operator/own:1')).toBe(true);
  });

  it('skips an image Docker refuses to remove (a container outside the agent uses it), logs it, keeps its record, and goes on', async () => {
    const s = await setup(2);
    const theirs = taskUsing('arn:theirs', ref(0));
    await s.docker.createContainer(containerSpec(theirs, theirs.containers[0]!, 'another-agent'));
    expect(await s.cleaner.runOnce()).toHaveLength(1);
    expect(present(s.docker, 2)).toEqual([0]);
    expect(s.records.get(ref(0))).toBeDefined();
    const failed = s.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => String(l.message).startsWith('Failed to remove image'));
    expect(failed).toMatchObject({ level: 'warn', image: ref(0) });
    expect(s.lines.map((l) => JSON.parse(l).message)).toEqual(expect.arrayContaining(['Removing image…', 'Removed image']));
  });

  it('asks again before each removal: an image a task starts using during the pass is kept', async () => {
    const s = await setup(2);
    let release!: () => void;
    s.docker.delayNext('image-remove', new Promise<void>((r) => (release = r)));
    const pass = s.cleaner.runOnce();
    await vi.waitFor(() => expect(s.docker.calls.filter((c) => c.op === 'image-remove')).toHaveLength(1));
    s.tasks.push(taskUsing('arn:new', ref(1)));
    release();
    expect(await pass).toHaveLength(1);
    expect(present(s.docker, 2)).toEqual([1]);
  });

  it('a pass that cannot list images (Docker down) is logged and the schedule goes on', async () => {
    const s = await setup(1, { intervalMs: MIN });
    s.docker.setUnavailable(true);
    s.cleaner.start();
    await vi.advanceTimersByTimeAsync(MIN + 1);
    expect(s.lines.some((l) => l.includes('Image cleanup pass failed'))).toBe(true);
    s.docker.setUnavailable(false);
    await vi.advanceTimersByTimeAsync(MIN);
    await s.cleaner.stop();
    expect(s.docker.hasImage(ref(0))).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { ImageRecords } from '../../../../src/engine/images/image-records.js';
import { MemorySaver } from '../../../../src/state/memory-saver.js';
import { recordingLogger } from '../../../support/recording-logger.js';

const ID1 = `sha256:${'1'.repeat(64)}`;
const ID2 = `sha256:${'2'.repeat(64)}`;
const DIGEST = `sha256:${'d'.repeat(64)}`;

async function loaded(saver = new MemorySaver()): Promise<{ records: ImageRecords; saver: MemorySaver; lines: string[] }> {
  const { log, lines } = recordingLogger();
  const records = new ImageRecords(saver, log);
  await records.load();
  return { records, saver, lines };
}

describe('ImageRecords', () => {
  it('records a pull under the reference Docker means, in memory and in the saver', async () => {
    const { records, saver } = await loaded();
    await records.notePulled('busybox', { imageId: ID1, digest: DIGEST }, 1_000);
    const expected = { ref: 'docker.io/library/busybox:latest', imageId: ID1, digest: DIGEST, pulledAt: 1_000, lastUsedAt: 1_000 };
    expect(records.get('docker.io/library/busybox')).toEqual(expected);
    expect(await saver.loadImages()).toEqual([expected]);
  });

  it('notes a use without touching when the image was pulled; a first use records no pull', async () => {
    const { records, saver } = await loaded();
    await records.notePulled('registry.test:5000/a:1', { imageId: ID1, digest: DIGEST }, 1_000);
    await records.noteUsed('registry.test:5000/a:1', undefined, 5_000);
    await records.noteUsed('registry.test:5000/cached:1', ID2, 6_000);
    expect(await saver.loadImages()).toEqual([
      { ref: 'registry.test:5000/a:1', imageId: ID1, digest: DIGEST, pulledAt: 1_000, lastUsedAt: 5_000 },
      { ref: 'registry.test:5000/cached:1', imageId: ID2, lastUsedAt: 6_000 },
    ]);
    expect(records.get('registry.test:5000/cached:1')?.pulledAt).toBeUndefined();
  });

  it('forgets a record in memory and in the saver', async () => {
    const { records, saver } = await loaded();
    await records.notePulled('registry.test:5000/a:1', { imageId: ID1 }, 1_000);
    await records.notePulled('registry.test:5000/b:1', { imageId: ID2 }, 2_000);
    await records.forget('registry.test:5000/a:1');
    await records.forget('registry.test:5000/never:1');
    expect(records.all().map((r) => r.ref)).toEqual(['registry.test:5000/b:1']);
    expect((await saver.loadImages()).map((r) => r.ref)).toEqual(['registry.test:5000/b:1']);
  });

  it('loads what an earlier run saved', async () => {
    const first = await loaded();
    await first.records.notePulled('registry.test:5000/a:1', { imageId: ID1, digest: DIGEST }, 1_000);
    const second = await loaded(first.saver);
    expect(second.records.all()).toEqual(first.records.all());
  });

  it('logs a failed write and writes the change with the next note, never rejecting', async () => {
    const { records, saver, lines } = await loaded();
    saver.failWrites(new Error('disk full'));
    await expect(records.notePulled('registry.test:5000/a:1', { imageId: ID1 }, 1_000)).resolves.toBeUndefined();
    expect(await saver.loadImages()).toEqual([]);
    expect(lines.some((l) => l.includes('Failed to save image records') && l.includes('disk full'))).toBe(true);
    expect(records.get('registry.test:5000/a:1')?.pulledAt).toBe(1_000);
    saver.failWrites(undefined);
    await records.noteUsed('registry.test:5000/b:1', ID2, 2_000);
    expect((await saver.loadImages()).map((r) => r.ref)).toEqual(['registry.test:5000/a:1', 'registry.test:5000/b:1']);
  });

  it('writes notes made while a write is in flight, each resolving once its own change is saved', async () => {
    const { records, saver } = await loaded();
    const notes = [1, 2, 3].map((n) => records.notePulled(`registry.test:5000/i${n}:1`, { imageId: ID1 }, n));
    await notes[2];
    expect(await saver.loadImages()).toHaveLength(3);
    await Promise.all(notes);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { FakeDocker } from '../../../../src/docker/fake-docker.js';
import { MetadataFiles } from '../../../../src/engine/metadata/metadata-files.js';
import type { MetadataIo } from '../../../../src/engine/metadata/metadata-io.js';
import { metadataLocation, taskMetadataDir } from '../../../../src/engine/metadata/metadata-location.js';
import { running, trackedEngines, waitForTask } from '../../../support/engine-harness.js';
import { fakeId, IMAGE, taskAt, taskDef } from '../../../support/fixtures.js';
import { recordingLogger } from '../../../support/recording-logger.js';

/* The writer on an in-memory disk that can be made to fail: what is written when, and what a failure leaves. */

const ROOT = '/data/metadata';
const engineFor = trackedEngines(afterEach);

function memoryIo(): MetadataIo & { files: Map<string, string>; writes: string[]; removed: string[]; failing: boolean } {
  const files = new Map<string, string>();
  const io = {
    files,
    writes: [] as string[],
    removed: [] as string[],
    failing: false,
    async writeAtomic(file: string, content: string) {
      await Promise.resolve();
      if (io.failing) throw new Error('ENOSPC: no space left on device');
      io.writes.push(file);
      files.set(file, content);
    },
    async read(file: string) {
      return files.get(file);
    },
    async list() {
      return [];
    },
    async removeDir(dir: string) {
      io.removed.push(dir);
      for (const f of [...files.keys()]) if (f.startsWith(`${dir}/`)) files.delete(f);
    },
  };
  return io;
}

const pending = taskAt({ app: 'PULLED' });
const live = taskAt({ app: ['RUNNING', { networks: { bridge: { ipAddress: '172.17.0.9' } }, startedAt: 5 }] });
const file = metadataLocation(ROOT, live.arn, 'app').hostFile;
const status = (io: ReturnType<typeof memoryIo>): unknown => (JSON.parse(io.files.get(file)!) as { MetadataFileStatus: string }).MetadataFileStatus;

describe('MetadataFiles', () => {
  it('writes PENDING at prepare and says where, then rewrites only on a change of content', async () => {
    const io = memoryIo();
    const files = new MetadataFiles({ root: ROOT, cluster: 'c', log: recordingLogger().log, io });
    expect(await files.prepare(pending, pending.containers[0]!)).toEqual(metadataLocation(ROOT, pending.arn, 'app'));
    expect(status(io)).toBe('PENDING');
    files.observe(live.arn, live);
    files.observe(live.arn, { ...live, updatedAt: live.updatedAt + 1 });
    files.observe(live.arn, { ...live, containers: [{ ...live.containers[0]!, health: 'HEALTHY' }] });
    await files.idle();
    expect(status(io)).toBe('READY');
    expect(io.writes).toEqual([file, file]);
  });

  it('leaves containers alone until they are prepared or have a Docker container', async () => {
    const io = memoryIo();
    const files = new MetadataFiles({ root: ROOT, cluster: 'c', log: recordingLogger().log, io });
    files.observe(pending.arn, pending);
    await files.idle();
    expect(io.writes).toEqual([]);
    const created = taskAt({ app: 'CREATED' });
    files.observe(created.arn, created);
    await files.idle();
    expect(io.writes).toEqual([file]);
  });

  it('logs a failed write with the task and container, and writes again on the next change', async () => {
    const io = memoryIo();
    const { log, lines } = recordingLogger();
    const files = new MetadataFiles({ root: ROOT, cluster: 'c', log, io });
    io.failing = true;
    expect(await files.prepare(pending, pending.containers[0]!)).toBeUndefined();
    files.observe(live.arn, live);
    await files.idle();
    const failure = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => String(l.message).startsWith('Failed to write the container metadata file'));
    expect(failure).toMatchObject({ level: 'warn', taskArn: live.arn, container: 'app', error: expect.stringContaining('ENOSPC') });
    io.failing = false;
    files.observe(live.arn, { ...live, updatedAt: live.updatedAt + 1 });
    await files.idle();
    expect(status(io)).toBe('READY');
  });

  it('removes the task directory when the task leaves the state, writing nothing more for it', async () => {
    const io = memoryIo();
    const files = new MetadataFiles({ root: ROOT, cluster: 'c', log: recordingLogger().log, io });
    const created = { ...live, containers: [{ ...live.containers[0]!, dockerId: fakeId('app') }] };
    files.observe(live.arn, created);
    await files.idle();
    expect(io.writes).toEqual([file]);
    files.observe(live.arn, { ...created, updatedAt: created.updatedAt + 1, containers: [{ ...created.containers[0]!, knownStatus: 'STOPPED' as const, portBindings: [] }] });
    files.observe(live.arn, undefined);
    await files.idle();
    expect(io.writes).toEqual([file]);
    expect(io.removed).toEqual([taskMetadataDir(ROOT, live.arn)]);
    expect(io.files.size).toBe(0);
    files.observe(live.arn, created);
    await files.idle();
    expect(io.files.has(file)).toBe(true);
  });

  it('a file that cannot be written leaves the container created without its mount, with a warning', async () => {
    const io = memoryIo();
    io.failing = true;
    const { log, lines } = recordingLogger();
    const docker = new FakeDocker({ images: [IMAGE] });
    const { engine } = engineFor({ docker, log, containerMetadata: { root: ROOT, cluster: 'c', io } });
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef('arn:test:task/t1') });
    const task = await waitForTask(engine, 'arn:test:task/t1', running);
    const spec = docker.specOf(task.containers[0]!.dockerId!);
    expect(spec).not.toHaveProperty('mounts');
    expect(spec.env).not.toHaveProperty('ECS_CONTAINER_METADATA_FILE');
    expect(lines.some((l) => l.includes('Creating the container without its metadata file'))).toBe(true);
  });
});

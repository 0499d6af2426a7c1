import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { DockerodeClient } from '../../../src/docker/dockerode-client.js';
import { ImageCleaner } from '../../../src/engine/image-cleanup/image-cleaner.js';
import { ImageRecords } from '../../../src/engine/images/image-records.js';
import { silentLogger } from '../../../src/log/logger.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { systemClock } from '../../../src/util/clock.js';
import { AgentProcess, docker, removeContainersOf } from '../../support/agent-process.js';
import { recordingLogger } from '../../support/recording-logger.js';
import { TEST_IMAGE } from '../global-setup.js';

/*
 * Image cleanup on the real engine. Both parts use the variants scripts/setup-docker.sh pushes
 * (127.0.0.1:5000/berth/variant:N, each with 1 MiB of its own) and remove them from the local
 * store first, so every pull is a real one. The shared test image is never tracked here, and is
 * excluded as well, so other suites' image stays.
 */

const VARIANT = (n: number): string => `127.0.0.1:5000/berth/variant:${n}`;
const RUN = `ic${process.pid}-${Date.now()}`;
const run = promisify(execFile);

function removeLocal(...refs: string[]): void {
  for (const ref of refs) {
    try {
      docker('rmi', ref);
    } catch {
      // Not there: what we want.
    }
  }
}

const present = (ref: string): boolean => {
  try {
    docker('image', 'inspect', '--format', '{{.Id}}', ref);
    return true;
  } catch {
    return false;
  }
};

describe('ImageCleaner on the real engine', () => {
  const client = new DockerodeClient({ socketPath: '/var/run/docker.sock', timeoutMs: 30_000, pullTimeoutMs: 120_000 });
  const held = `berth-${RUN}-holds-variant`;
  afterEach(() => {
    try {
      docker('rm', '-f', held);
    } catch {
      // Already gone.
    }
  });

  it('removes an unused tracked image, skips one a container uses until it is gone, and leaves untracked images', async () => {
    removeLocal(VARIANT(8), VARIANT(9));
    const records = new ImageRecords(new MemorySaver(), silentLogger());
    await records.load();
    for (const ref of [VARIANT(8), VARIANT(9)]) {
      await client.pullImage(ref);
      await records.notePulled(ref, { imageId: (await client.inspectImage(ref)).id }, Date.now() - 1000);
    }
    docker('create', '--name', held, VARIANT(8), 'true');
    const { log, lines } = recordingLogger();
    const cleaner = new ImageCleaner(client, records, { tasks: () => [], isPulling: () => false }, {
      clock: systemClock,
      policy: { intervalMs: 1_000, minimumAgeMs: 0, perPass: 5, exclude: [TEST_IMAGE] },
      log,
    });

    expect(await cleaner.runOnce()).toHaveLength(1);
    expect(present(VARIANT(9))).toBe(false);
    expect(present(VARIANT(8))).toBe(true);
    expect(present(TEST_IMAGE)).toBe(true);
    expect(records.all().map((r) => r.ref)).toEqual([VARIANT(8)]);
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => String(l.message).startsWith('Failed to remove image'));
    expect(failed).toMatchObject({ level: 'warn', image: VARIANT(8) });
    expect(String(failed!.error)).toMatch(/conflict|being used|must force|container/i);

    docker('rm', '-f', held);
    expect(await cleaner.runOnce()).toHaveLength(1);
    expect(present(VARIANT(8))).toBe(false);
    expect(records.all()).toEqual([]);
  });
});

/**
 * The budget, read honestly. berth has no byte or count cap of its own (neither has ECS): what
 * bounds the cache is that every pass removes up to `perPass` tracked images no task holds. So the
 * images cached at any moment are those the agent's tasks still hold, plus at most `perPass`
 * released since the last pass — as long as tasks release images no faster than `perPass` per
 * interval, which one task after another does. That is the assertion, at every sample.
 */
describe('disk pressure: 50 short tasks over 10 images, one after another', () => {
  const PER_PASS = 2;
  const TASKS = 50;
  const IMAGES = 10;
  let dataDir: string;
  let agent: AgentProcess;
  let agentId = '';

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'berth-it-images-'));
    removeLocal(...Array.from({ length: IMAGES }, (_, i) => VARIANT(i)));
  });
  afterAll(async () => {
    await agent?.stop('SIGTERM');
    removeContainersOf(agentId);
    removeLocal(...Array.from({ length: IMAGES }, (_, i) => VARIANT(i)));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the cached images within what tasks hold plus one pass, never removes an image in use, and ends with none', async () => {
    agent = new AgentProcess(join(dataDir, 'agent'), [
      '--cleanup-wait', '500ms',
      '--image-cleanup-interval', '1s',
      '--image-cleanup-min-age', '0',
      '--image-cleanup-per-pass', String(PER_PASS),
      '--image-cleanup-exclude', TEST_IMAGE,
    ]);
    await agent.start();
    agentId = (await agent.client.get<{ agentId: string }>('/v1/metadata')).body.agentId;
    const since = Math.floor(Date.now() / 1000) - 1;

    const violations: string[] = [];
    let samples = 0;
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const held = (await agent.client.get<{ tasks: TaskView[] }>('/v1/tasks')).body.tasks;
        const { stdout } = await run('/usr/bin/docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', '127.0.0.1:5000/berth/variant']);
        const cached = stdout.split('\n').filter((l) => /:\d+$/.test(l) && Number(l.split(':').at(-1)) < IMAGES);
        // Tasks read before images: a task forgotten in between counts as released, as it is.
        const referenced = new Set(held.flatMap((t) => t.containers.map((c) => c.image)));
        samples += 1;
        peak = Math.max(peak, cached.length);
        const unheld = cached.filter((ref) => !referenced.has(ref));
        if (unheld.length > PER_PASS) violations.push(`${unheld.length} cached images no task holds: ${unheld.join(', ')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    for (let i = 0; i < TASKS; i++) {
      const arn = `arn:berth:task/${RUN}-${i}`;
      const posted = await agent.client.post<TaskView>('/v1/tasks', {
        arn,
        family: 'pressure',
        version: '1',
        containers: [{ name: 'job', image: VARIANT(i % IMAGES), command: ['sh', '-c', 'exit 0'], stopTimeout: 1 }],
      });
      expect(posted.status).toBe(201);
      const done = await agent.waitForTask(arn, (t) => t?.knownStatus === 'STOPPED', 60_000);
      expect(done!.containers[0]).toMatchObject({ exitCode: 0 });
      // Forgotten before the next starts: tasks come one after another, each releasing its image.
      await agent.waitForTask(arn, (t) => t === undefined, 30_000);
    }
    const deadline = Date.now() + 15_000;
    while (Array.from({ length: IMAGES }, (_, i) => VARIANT(i)).some(present)) {
      if (Date.now() > deadline) throw new Error(`variants left after the last task:\n${agent.log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    sampling = false;
    await sampler;

    expect(violations).toEqual([]);
    expect(samples).toBeGreaterThan(100);
    expect(peak).toBeLessThan(IMAGES);
    expect(present(TEST_IMAGE)).toBe(true);
    expect(agent.log()).not.toMatch(/Failed to remove image/);

    // Docker's own record: every task pulled for real, and no image went while a container made from it existed.
    const until = String(Math.ceil(Date.now() / 1000) + 1);
    const { stdout: containerEvents } = await run('/usr/bin/docker', [
      'events', '--since', String(since), '--until', until, '--filter', `label=berth.agent-id=${agentId}`, '--filter', 'type=container',
      '--format', '{{.TimeNano}} {{.Action}} {{.Actor.Attributes.image}}',
    ]);
    const { stdout: imageEvents } = await run('/usr/bin/docker', [
      'events', '--since', String(since), '--until', until, '--filter', 'type=image', '--format', '{{.TimeNano}} {{.Action}} {{.Actor.ID}}',
    ]);
    const imageLines = imageEvents.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string, string]);
    expect(imageLines.filter(([, action, ref]) => action === 'pull' && /^127\.0\.0\.1:5000\/berth\/variant:\d$/.test(ref))).toHaveLength(TASKS);
    // The variants' IDs (fixed by their content), learnt by pulling each once more.
    const idOf = new Map<string, string>();
    for (let i = 0; i < IMAGES; i++) {
      docker('pull', '-q', VARIANT(i));
      idOf.set(docker('image', 'inspect', '--format', '{{.Id}}', VARIANT(i)), VARIANT(i));
    }
    removeLocal(...Array.from({ length: IMAGES }, (_, i) => VARIANT(i)));
    const lives: Array<{ image: string; from: bigint; to: bigint }> = [];
    const born = new Map<string, bigint>();
    for (const [at, action, image] of containerEvents.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string, string])) {
      if (action === 'create') born.set(image, BigInt(at));
      if (action === 'destroy') lives.push({ image, from: born.get(image) ?? 0n, to: BigInt(at) });
    }
    expect(lives).toHaveLength(TASKS);
    const deletes = imageLines.filter(([, action, id]) => action === 'delete' && idOf.has(id));
    expect(deletes.length).toBeGreaterThanOrEqual(TASKS);
    for (const [at, , id] of deletes) {
      const image = idOf.get(id)!;
      const t = BigInt(at);
      expect(lives.filter((l) => l.image === image && l.from <= t && t <= l.to), `${image} deleted at ${at} while a container of it existed`).toEqual([]);
    }
  }, 180_000);
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskState } from '../../../src/api/task.js';
import { taskView } from '../../../src/api/view.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import type { HostCapacity } from '../../../src/engine/admission/host-resources.js';
import { newTaskState } from '../../../src/engine/task-state.js';
import { ValidationError } from '../../../src/errors.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import type { Saver } from '../../../src/state/saver.js';
import { openSqliteSaver } from '../../../src/state/sqlite-saver.js';
import { systemClock, type Clock } from '../../../src/util/clock.js';
import { AGENT_ID, running, stopped, trackedEngines, waitForTask } from '../../support/engine-harness.js';
import { containerDef, IMAGE, taskDef } from '../../support/fixtures.js';

/* Admission on the engine and the fake Docker: tasks wait in a FIFO queue until the host has room. */

const engineFor = trackedEngines(afterEach);
const HOST: HostCapacity = { memoryMiB: 1000, cpuUnits: 4096 };
/** Every task is created in the same millisecond: the queue's order cannot come from the clock. */
const frozen: Clock = { ...systemClock, now: () => 1_700_000_000_000 };

const needing = (arn: string, memoryReservation: number) => taskDef(arn, [containerDef('app', { memoryReservation })]);
const creates = (docker: FakeDocker): number => docker.calls.filter((c) => c.op === 'create').length;
const waiting = (t: TaskState): boolean => t.waiting !== undefined;

async function started(overrides: { saver?: Saver; docker?: FakeDocker } = {}) {
  const made = engineFor({ capacity: HOST, clock: frozen, ...overrides });
  await made.engine.start();
  return made;
}

describe('admission on the engine', () => {
  it('a task beyond capacity waits, visibly, with nothing done in Docker; tasks are admitted in order as earlier ones stop', async () => {
    const { engine, docker } = await started();
    await engine.addTask({ kind: 'definition', task: needing('arn:a', 600) });
    await waitForTask(engine, 'arn:a', running);
    const b = await engine.addTask({ kind: 'definition', task: needing('arn:b', 600) });
    const c = await engine.addTask({ kind: 'definition', task: needing('arn:c', 300) });
    expect(taskView(b.task)).toMatchObject({
      knownStatus: 'NONE',
      desiredStatus: 'RUNNING',
      reason: 'WaitingForResources',
      reasonMessage: 'needs 600 MiB memory, 0 CPU units; free: 400 MiB, 4096 CPU units',
    });
    // c would fit in what a leaves, but the queue is first come, first served.
    expect(taskView(c.task).reasonMessage).toBe('queued behind task arn:b, which waits for resources');
    await engine.idle();
    expect(creates(docker)).toBe(1);
    expect(docker.calls.filter((call) => call.op === 'pull')).toHaveLength(1);

    await engine.addTask({ kind: 'desired-status', arn: 'arn:a', desiredStatus: 'STOPPED' });
    await waitForTask(engine, 'arn:b', running);
    // b (600) and c (300) fit together once a's 600 are free.
    const after = await waitForTask(engine, 'arn:c', running);
    expect(taskView(after).reason).toBeUndefined();
    expect(engine.getTask('arn:b')!.waiting).toBeUndefined();
  });

  it('tasks posted together (saved in one commit) never both take the last room', async () => {
    const { engine, saver } = await started();
    const commitsBefore = (saver as MemorySaver).commits;
    const placed = await Promise.all(['arn:x', 'arn:y', 'arn:z'].map((arn) => engine.addTask({ kind: 'definition', task: needing(arn, 600) })));
    expect((saver as MemorySaver).commits - commitsBefore).toBe(1);
    expect(placed.map((p) => p.task.waiting?.position ?? 'admitted')).toEqual(['admitted', 1, 2]);
    await waitForTask(engine, 'arn:x', running);
    await engine.idle();
    expect(['arn:y', 'arn:z'].map((arn) => engine.getTask(arn)!.knownStatus)).toEqual(['NONE', 'NONE']);
  });

  it('a later small task never jumps an earlier big one: it is admitted after it', async () => {
    const { engine } = await started();
    await engine.addTask({ kind: 'definition', task: needing('arn:a', 900) });
    await waitForTask(engine, 'arn:a', running);
    await engine.addTask({ kind: 'definition', task: needing('arn:big', 800) });
    await engine.addTask({ kind: 'definition', task: needing('arn:small', 50) });
    await engine.idle();
    expect(engine.getTask('arn:small')!.knownStatus).toBe('NONE');
    const order: string[] = [];
    engine.subscribe((e) => {
      if (e.type === 'task' && e.status === 'RUNNING') order.push(e.taskArn);
    });
    await engine.addTask({ kind: 'desired-status', arn: 'arn:a', desiredStatus: 'STOPPED' });
    await waitForTask(engine, 'arn:small', running);
    expect(order).toEqual(['arn:big', 'arn:small']);
  });

  it('a static host port another task holds makes the task wait for that task to stop', async () => {
    const ports = { portMappings: [{ containerPort: 80, hostPort: 18081, protocol: 'tcp' as const, hostIp: '0.0.0.0' }] };
    const { engine, docker } = await started();
    await engine.addTask({ kind: 'definition', task: taskDef('arn:holder', [containerDef('web', ports)]) });
    await waitForTask(engine, 'arn:holder', running);
    const second = await engine.addTask({ kind: 'definition', task: taskDef('arn:second', [containerDef('web', ports)]) });
    expect(taskView(second.task).reasonMessage).toBe('host port 0.0.0.0:18081/tcp is held by task arn:holder');
    await engine.addTask({ kind: 'desired-status', arn: 'arn:holder', desiredStatus: 'STOPPED' });
    await waitForTask(engine, 'arn:second', running);
    expect(docker.calls.filter((c) => c.op === 'start')).toHaveLength(2);
  });

  it('a waiting task asked to stop is abandoned with no Docker call, and leaves the queue to the next', async () => {
    const { engine, docker } = await started();
    await engine.addTask({ kind: 'definition', task: needing('arn:a', 500) });
    await waitForTask(engine, 'arn:a', running);
    await engine.addTask({ kind: 'definition', task: needing('arn:head', 600) });
    await engine.addTask({ kind: 'definition', task: needing('arn:next', 400) });
    await engine.idle();
    await engine.addTask({ kind: 'desired-status', arn: 'arn:head', desiredStatus: 'STOPPED' });
    const gone = await waitForTask(engine, 'arn:head', stopped);
    expect(gone.containers.map((c) => [c.knownStatus, c.dockerId])).toEqual([['STOPPED', undefined]]);
    expect(taskView(gone).reason).toBeUndefined();
    // The head has left: next (400) fits beside a (500).
    await waitForTask(engine, 'arn:next', running);
    await engine.idle();
    expect(docker.calls.filter((c) => c.arg.includes(gone.containers[0]!.dockerName))).toEqual([]);
    expect(docker.calls.filter((c) => c.op === 'pull')).toHaveLength(2);
    expect(creates(docker)).toBe(2);
  });

  it('a task that could never fit is refused, naming the field, and nothing is saved', async () => {
    const { engine } = await started();
    const tooBig = taskDef('arn:huge', [containerDef('app', { memory: 2048 })]);
    const refusal = await engine.addTask({ kind: 'definition', task: tooBig }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as ValidationError).issues).toEqual([
      {
        path: 'containerDefinitions',
        message:
          'the containers reserve (memoryReservation, else memory, summed) 2048 MiB of memory, more than the 1000 MiB this host has for tasks (its memory less --reserved-memory): it could never be admitted',
      },
    ]);
    const taskCpu = await engine.addTask({ kind: 'definition', task: taskDef('arn:cpu', [containerDef('app')], { cpu: 8192 }) }).catch((e: unknown) => e);
    expect((taskCpu as ValidationError).issues.map((i) => i.path)).toEqual(['cpu']);
    expect(engine.listTasks()).toEqual([]);
  });

  it('a task saved before admission existed counts as admitted: it holds its memory after an upgrade', async () => {
    const saver = new MemorySaver();
    const old = newTaskState(needing('arn:old', 700), 1_000, AGENT_ID);
    expect(old.waiting).toBeUndefined();
    await saver.commit({ put: [old], remove: [], events: [] });
    const { engine } = await started({ saver });
    await waitForTask(engine, 'arn:old', running);
    const next = await engine.addTask({ kind: 'definition', task: needing('arn:new', 700) });
    expect(next.task.waiting?.message).toBe('needs 700 MiB memory, 0 CPU units; free: 300 MiB, 4096 CPU units');
  });

  describe('across a restart (the same SQLite file)', () => {
    const dirs: string[] = [];
    afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

    it('the queue keeps its order and the accounting is rebuilt: nothing is over-admitted', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'berth-admission-'));
      dirs.push(dir);
      const path = join(dir, 'state.db');
      const docker = new FakeDocker({ images: [IMAGE] });
      const first = openSqliteSaver(path);
      const one = await started({ saver: first, docker });
      await one.engine.addTask({ kind: 'definition', task: needing('arn:a', 600) });
      await waitForTask(one.engine, 'arn:a', running);
      for (const [arn, mib] of [['arn:z', 500], ['arn:m', 100], ['arn:b', 400]] as const) {
        await one.engine.addTask({ kind: 'definition', task: needing(arn, mib) });
      }
      await one.engine.idle();
      await one.engine.close();
      await first.close();

      const second = openSqliteSaver(path);
      const two = await started({ saver: second, docker });
      await two.engine.idle();
      // a still holds 600 of 1000: z (500) still does not fit, and holds up m and b behind it.
      expect(['arn:z', 'arn:m', 'arn:b'].map((arn) => waiting(two.engine.getTask(arn)!))).toEqual([true, true, true]);
      expect(taskView(two.engine.getTask('arn:m')!).reasonMessage).toBe('queued behind task arn:z, which waits for resources');
      expect(creates(docker)).toBe(1);

      const order: string[] = [];
      two.engine.subscribe((e) => {
        if (e.type === 'task' && e.status === 'RUNNING') order.push(e.taskArn);
      });
      await two.engine.addTask({ kind: 'desired-status', arn: 'arn:a', desiredStatus: 'STOPPED' });
      // z + m = 600 fit; b (400) would make 1000 too: it fits exactly.
      await waitForTask(two.engine, 'arn:b', running);
      expect(order).toEqual(['arn:z', 'arn:m', 'arn:b']);
      const next = await two.engine.addTask({ kind: 'definition', task: needing('arn:late', 1) });
      expect(next.task.waiting?.message).toBe('needs 1 MiB memory, 0 CPU units; free: 0 MiB, 4096 CPU units');
      await two.engine.close();
      await second.close();
    });
  });
});

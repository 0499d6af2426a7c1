import { afterEach, expect, it, vi } from 'vitest';
import { PersistenceError } from '../../../src/errors.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { AGENT_ID, containerDef, taskDef } from '../../support/fixtures.js';
import { running, trackedEngines, waitForTask } from '../../support/engine-harness.js';
import { StateStore, WRITE_PROBE_KEY } from '../../../src/engine/state-store.js';
import { newTaskState } from '../../../src/engine/task-state.js';
import { systemClock } from '../../../src/util/clock.js';

const engineFor = trackedEngines(afterEach);
const ARN = 'arn:test:task/db-outage';
const diskFull = (): PersistenceError => new PersistenceError('committing state failed: database or disk is full (SQLITE_FULL)', { retryable: true });

it('while the database refuses writes no Docker action is taken; once it takes them again the task runs with one container each', async () => {
  const saver = new MemorySaver();
  const { engine, docker, events } = engineFor({ saver });
  let open!: () => void;
  docker.delayNext('create', new Promise<void>((r) => (open = r)));
  await engine.start();
  await engine.addTask({ kind: 'definition', task: taskDef(ARN, [containerDef('web'), containerDef('side')]) });
  await vi.waitFor(() => expect(docker.calls.some((c) => c.op === 'create')).toBe(true));

  saver.failWrites(diskFull());
  open();
  await vi.waitFor(() => expect(engine.writeFailure()).toBeDefined());
  const callsAtFailure = docker.calls.length;
  // Dozens of 5–20 ms backoffs: a step that acted anyway would show here.
  await new Promise((r) => setTimeout(r, 300));
  expect(docker.calls.slice(callsAtFailure)).toEqual([]);
  await expect(engine.addTask({ kind: 'definition', task: taskDef(`${ARN}-2`) })).rejects.toMatchObject({ code: 'PersistenceError', retryable: true });
  expect(engine.getTask(`${ARN}-2`)).toBeUndefined();

  saver.failWrites(undefined);
  const t = await waitForTask(engine, ARN, running);
  expect(engine.writeFailure()).toBeUndefined();
  expect(docker.calls.filter((c) => c.op === 'create')).toHaveLength(2);
  expect(docker.containerCount()).toBe(2);
  expect(new Set(t.containers.map((c) => c.dockerId)).size).toBe(2);
  const statuses = events.filter((e) => e.type === 'container').map((e) => `${e.containerName} ${e.status}`);
  expect(statuses).toHaveLength(6);
  expect(statuses).toEqual([...new Set(statuses)]);
});

it('concurrent steps waiting on a refusing database share one probe write, and a good probe clears the failure', async () => {
  const saver = new MemorySaver();
  const store = new StateStore(saver, systemClock);
  await store.load();
  saver.failWrites(diskFull());
  await expect(store.mutate(ARN, () => newTaskState(taskDef(ARN), 0, AGENT_ID))).rejects.toThrow(/SQLITE_FULL/);
  const setMeta = vi.spyOn(saver, 'setMeta');
  expect(await Promise.all(Array.from({ length: 10 }, () => store.writable()))).toEqual(Array(10).fill(false));
  expect(setMeta).toHaveBeenCalledTimes(1);
  expect(store.writeFailure()?.error).toBeInstanceOf(PersistenceError);

  saver.failWrites(undefined);
  expect(await store.writable()).toBe(true);
  expect(store.writeFailure()).toBeUndefined();
  expect(await saver.getMeta(WRITE_PROBE_KEY)).toBeDefined();
  // No failure recorded: no probe either.
  expect(await store.writable()).toBe(true);
  expect(setMeta).toHaveBeenCalledTimes(2);
});

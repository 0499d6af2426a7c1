import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewStateChange } from '../../src/api/events.js';
import { containerDefinition, type ContainerDefinition, type ContainerState, type TaskState } from '../../src/api/task.js';
import { PersistenceError } from '../../src/errors.js';
import type { Saver, StateCommit } from '../../src/state/saver.js';

export interface SaverUnderTest {
  saver: Saver;
  /** Durable savers only: closes nothing itself; opens the same store again. */
  reopen?: () => Promise<Saver>;
  /** Closes every saver it opened and removes whatever the store left behind. */
  cleanup(): Promise<void>;
}

const T0 = 1_700_000_000_000;

function definition(name: string, extra: Partial<ContainerDefinition> = {}): ContainerDefinition {
  return containerDefinition({ name, image: '127.0.0.1:5000/berth/busybox:latest', stopTimeout: 10, ...extra });
}

/** Every optional field set, including the falsy ones (exitCode 0, an empty reason message). */
export function fullTask(arn = 'arn:berth:task/full'): TaskState {
  const binding = { containerPort: 80, hostPort: 49153, protocol: 'tcp', hostIp: '127.0.0.1' } as const;
  return {
    arn,
    family: 'web',
    version: '3',
    desiredStatus: 'STOPPED',
    knownStatus: 'STOPPED',
    // Listed out of alphabetical order: loading must keep definition order.
    containers: [
      {
        definition: definition('z-app', {
          command: ['sh', '-c', 'sleep 1'],
          entryPoint: ['/bin/sh'],
          environment: { GREETING: 'hello' },
          labels: { team: 'core' },
          portMappings: [{ containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' }],
        }),
        dockerName: 'berth-web-3-z-app',
        dockerId: 'c0ffee',
        desiredStatus: 'STOPPED',
        knownStatus: 'STOPPED',
        exitCode: 137,
        reason: { code: 'OutOfMemory', message: 'killed by the kernel' },
        portBindings: [binding],
        createdAt: T0 + 1,
        startedAt: T0 + 2,
        finishedAt: T0 + 3,
      },
      {
        definition: definition('a-sidecar', { essential: false }),
        dockerName: 'berth-web-3-a-sidecar',
        dockerId: 'beef',
        desiredStatus: 'STOPPED',
        knownStatus: 'STOPPED',
        exitCode: 0,
        reason: { code: 'TaskStopRequested', message: '' },
        portBindings: [],
        createdAt: T0 + 4,
        startedAt: T0 + 5,
        finishedAt: T0 + 6,
      },
    ],
    settings: { networkMode: 'bridge', volumes: [] },
    provisionedVolumes: [],
    createdAt: T0,
    updatedAt: T0 + 7,
    stoppedAt: T0 + 8,
    cleanedUp: true,
  };
}

/** No optional field set anywhere. */
export function bareTask(arn = 'arn:berth:task/bare', createdAt = T0 + 100): TaskState {
  const container: ContainerState = {
    definition: definition('app'),
    dockerName: `berth-${arn.replace(/\W/g, '-')}-app`,
    desiredStatus: 'RUNNING',
    knownStatus: 'NONE',
    portBindings: [],
  };
  return {
    arn,
    family: 'worker',
    version: '1',
    desiredStatus: 'RUNNING',
    knownStatus: 'NONE',
    containers: [container],
    settings: { networkMode: 'bridge', volumes: [] },
    provisionedVolumes: [],
    createdAt,
    updatedAt: createdAt,
  };
}

export function event(taskArn: string, extra: Partial<NewStateChange> = {}): NewStateChange {
  return { type: 'task', taskArn, status: 'RUNNING', at: '2023-11-14T22:13:20.000Z', ...extra };
}

const byArn = (tasks: TaskState[]): TaskState[] => [...tasks].sort((a, b) => (a.arn < b.arn ? -1 : 1));

export function describeSaverContract(name: string, open: () => Promise<SaverUnderTest>): void {
  // Async so one probe can decide whether the durability test applies: registering it for every
  // saver would make it pass vacuously for the in-memory one.
  describe(`Saver contract: ${name}`, async () => {
    const probe = await open();
    const durable = probe.reopen !== undefined;
    await probe.cleanup();

    let sut: SaverUnderTest;
    let saver: Saver;
    beforeEach(async () => {
      sut = await open();
      saver = sut.saver;
    });
    afterEach(async () => {
      await sut.cleanup();
    });

    it('starts empty', async () => {
      expect(await saver.loadTasks()).toEqual([]);
      expect(await saver.lastSeq()).toBe(0);
      expect(await saver.eventsAfter(0, 10)).toEqual([]);
      expect(await saver.getMeta('agent-id')).toBeUndefined();
      expect(await saver.unloadedArns()).toEqual([]);
    });

    it('round-trips tasks exactly: every optional field, none, and explicit false', async () => {
      const tasks = [fullTask(), bareTask(), { ...bareTask('arn:berth:task/kept'), cleanedUp: false }];
      await saver.commit({ put: tasks });
      // toStrictEqual: an absent field must come back absent, not as `undefined` or null.
      expect(byArn(await saver.loadTasks())).toStrictEqual(byArn(tasks));
      const full = (await saver.loadTasks()).find((t) => t.arn === fullTask().arn);
      expect(full?.containers.map((c) => c.definition.name)).toEqual(['z-app', 'a-sidecar']);
    });

    it('loads what it saved again and again: loading changes neither tasks nor the feed', async () => {
      const events = await saver.commit({ put: [fullTask(), bareTask()], events: [event('a')] });
      const first = await saver.loadTasks();
      expect(await saver.loadTasks()).toStrictEqual(first);
      expect(byArn(first)).toStrictEqual(byArn([fullTask(), bareTask()]));
      expect(await saver.eventsAfter(0, 10)).toEqual(events);
      expect(await saver.lastSeq()).toBe(events[0]!.seq);
    });

    it('put replaces the whole task, its containers included', async () => {
      await saver.commit({ put: [fullTask()] });
      const [app] = fullTask().containers;
      const replaced: TaskState = {
        ...fullTask(),
        knownStatus: 'RUNNING',
        containers: [{ ...app!, knownStatus: 'RUNNING', exitCode: undefined, reason: undefined }],
        stoppedAt: undefined,
      };
      await saver.commit({ put: [replaced] });
      const [loaded] = await saver.loadTasks();
      expect(loaded).toEqual(replaced);
      expect(loaded?.containers).toHaveLength(1);
      expect(loaded && 'stoppedAt' in loaded).toBe(false);
    });

    it('remove deletes the task with its containers; an unknown arn is a no-op', async () => {
      await saver.commit({ put: [fullTask(), bareTask()] });
      await saver.commit({ remove: [fullTask().arn, 'arn:berth:task/never-existed'] });
      expect(await saver.loadTasks()).toEqual([bareTask()]);
      // Put back under the same arn with other containers: nothing of the old ones may linger.
      const again = { ...bareTask(fullTask().arn), family: 'web' };
      await saver.commit({ put: [again] });
      expect(byArn(await saver.loadTasks())).toEqual(byArn([again, bareTask()]));
    });

    it('applies the puts, removes and events of one commit together', async () => {
      await saver.commit({ put: [fullTask()] });
      const changes = await saver.commit({
        put: [bareTask()],
        remove: [fullTask().arn],
        events: [event(bareTask().arn)],
      });
      expect(await saver.loadTasks()).toEqual([bareTask()]);
      expect(await saver.eventsAfter(0, 10)).toEqual(changes);
    });

    it('gives events rising seqs from lastSeq + 1 and returns them as stored', async () => {
      const start = await saver.lastSeq();
      const first = await saver.commit({ events: [event('a'), event('b')] });
      const second = await saver.commit({ events: [event('c')] });
      expect([...first, ...second].map((e) => e.seq)).toEqual([start + 1, start + 2, start + 3]);
      expect(first[1]).toStrictEqual({ ...event('b'), seq: start + 2 });
      expect(await saver.lastSeq()).toBe(start + 3);
      expect(await saver.commit({})).toEqual([]);
    });

    it('round-trips events with every optional field and with none', async () => {
      const full = event(fullTask().arn, {
        type: 'container',
        containerName: 'z-app',
        dockerId: 'c0ffee',
        status: 'STOPPED',
        exitCode: 0,
        reason: 'EssentialContainerExited',
        reasonMessage: 'z-app exited',
        portBindings: [{ containerPort: 80, hostPort: 49153, protocol: 'udp', hostIp: '0.0.0.0' }],
      });
      const bare = event(bareTask().arn);
      const empty = event(bareTask().arn, { portBindings: [] });
      const returned = await saver.commit({ events: [full, bare, empty] });
      const stored = await saver.eventsAfter(0, 10);
      expect(stored).toStrictEqual(returned);
      expect(stored.map(({ seq: _seq, ...rest }) => rest)).toStrictEqual([full, bare, empty]);
    });

    it('pages events oldest first with eventsAfter(after, limit)', async () => {
      const all = await saver.commit({ events: ['a', 'b', 'c', 'd', 'e'].map((arn) => event(arn)) });
      const seqs = all.map((e) => e.seq);
      expect((await saver.eventsAfter(0, 2)).map((e) => e.taskArn)).toEqual(['a', 'b']);
      expect((await saver.eventsAfter(seqs[1]!, 2)).map((e) => e.taskArn)).toEqual(['c', 'd']);
      expect((await saver.eventsAfter(seqs[3]!, 2)).map((e) => e.taskArn)).toEqual(['e']);
      expect(await saver.eventsAfter(seqs[4]!, 2)).toEqual([]);
      expect(await saver.eventsAfter(0, 0)).toEqual([]);
      await expect(saver.eventsAfter(0, -1)).rejects.toThrow(RangeError);
      await expect(saver.eventsAfter(0.5, 1)).rejects.toThrow(RangeError);
    });

    it('keeps lastSeq and the event feed when tasks are removed', async () => {
      const [put] = await saver.commit({ put: [fullTask()], events: [event(fullTask().arn)] });
      await saver.commit({ remove: [fullTask().arn] });
      expect(await saver.lastSeq()).toBe(put!.seq);
      expect(await saver.eventsAfter(0, 10)).toEqual([put]);
      const [next] = await saver.commit({ events: [event('b')] });
      expect(next!.seq).toBe(put!.seq + 1);
    });

    it('prunes events by count, keeping the newest, and never lowers lastSeq', async () => {
      expect(await saver.oldestSeq()).toBeUndefined();
      const all = await saver.commit({ events: ['a', 'b', 'c', 'd', 'e'].map((arn) => event(arn)) });
      expect(await saver.oldestSeq()).toBe(all[0]!.seq);
      expect(await saver.pruneEvents({ keepLast: 2, olderThan: '1970-01-01T00:00:00.000Z' })).toBe(3);
      expect((await saver.eventsAfter(0, 10)).map((e) => e.seq)).toEqual(all.slice(3).map((e) => e.seq));
      expect(await saver.oldestSeq()).toBe(all[3]!.seq);
      expect(await saver.pruneEvents({ keepLast: 0, olderThan: '1970-01-01T00:00:00.000Z' })).toBe(2);
      expect(await saver.oldestSeq()).toBeUndefined();
      expect(await saver.lastSeq()).toBe(all[4]!.seq);
      const [next] = await saver.commit({ events: [event('f')] });
      expect(next!.seq).toBe(all[4]!.seq + 1);
    });

    it('prunes events older than a time, keeping the rest', async () => {
      const at = (s: number): string => new Date(T0 + s * 1000).toISOString();
      const all = await saver.commit({ events: [1, 2, 3, 4].map((s) => event('x', { at: at(s) })) });
      expect(await saver.pruneEvents({ keepLast: 100, olderThan: at(3) })).toBe(2);
      expect((await saver.eventsAfter(0, 10)).map((e) => e.seq)).toEqual([all[2]!.seq, all[3]!.seq]);
      expect(await saver.pruneEvents({ keepLast: 100, olderThan: at(3) })).toBe(0);
      await expect(saver.pruneEvents({ keepLast: -1, olderThan: at(3) })).rejects.toThrow(/keepLast/);
      await expect(saver.pruneEvents({ keepLast: 1, olderThan: 'yesterday' })).rejects.toThrow(/olderThan/);
    });

    it('gets, sets and overwrites meta', async () => {
      await saver.setMeta('agent-id', 'first');
      await saver.setMeta('other', '');
      await saver.setMeta('agent-id', 'second');
      expect(await saver.getMeta('agent-id')).toBe('second');
      expect(await saver.getMeta('other')).toBe('');
      await expect(saver.setMeta('', 'x')).rejects.toThrow(PersistenceError);
    });

    it('is not changed by callers mutating what they committed', async () => {
      const task = fullTask();
      await saver.commit({ put: [task] });
      (task.containers[0]!.portBindings as unknown[]).length = 0;
      (task.containers as unknown[]).pop();
      expect(await saver.loadTasks()).toEqual([fullTask()]);
    });

    const [app] = fullTask().containers;
    const [bare] = bareTask().containers;
    const invalid: [string, StateCommit][] = [
      ['an event with an unknown status', { events: [event('x'), event('x', { status: 'EXPLODED' as never })] }],
      ['an event with an unknown type', { events: [event('x', { type: 'pod' as never })] }],
      ['a task with duplicate container names', { put: [{ ...fullTask(), containers: [app!, app!] }] }],
      ['a task both put and removed', { put: [fullTask()], remove: [fullTask().arn] }],
      ['a task put twice', { put: [fullTask(), fullTask()] }],
      ['a non-integer exit code', { put: [{ ...bareTask(), containers: [{ ...bare!, exitCode: NaN }] }] }],
      ['an unknown task status', { put: [{ ...bareTask(), knownStatus: 'DONE' as never }] }],
    ];
    it.each(invalid)('rejects a commit with %s and writes none of it', async (_label, bad) => {
      const existing = bareTask('arn:berth:task/existing', T0);
      const baseline = await saver.commit({ put: [existing], events: [event(existing.arn)] });
      // The rejected commit also carries valid changes that must not half-apply.
      const rejected = saver.commit({
        ...bad,
        put: [...(bad.put ?? []), { ...existing, desiredStatus: 'STOPPED' }, bareTask('arn:berth:task/new')],
        remove: [...(bad.remove ?? []), 'arn:berth:task/other'],
        events: [event(existing.arn, { status: 'STOPPED' }), ...(bad.events ?? [])],
      });
      await expect(rejected).rejects.toThrow(PersistenceError);
      await expect(rejected).rejects.toMatchObject({ retryable: false });
      expect(await saver.loadTasks()).toEqual([existing]);
      expect(await saver.eventsAfter(0, 10)).toEqual(baseline);
      const [next] = await saver.commit({ events: [event('y')] });
      expect(next!.seq).toBe(baseline[0]!.seq + 1);
    });

    it('rejects every call once closed, and closing twice is harmless', async () => {
      await saver.close();
      await saver.close();
      await expect(saver.loadTasks()).rejects.toThrow(PersistenceError);
      await expect(saver.commit({ events: [event('x')] })).rejects.toThrow(PersistenceError);
      await expect(saver.lastSeq()).rejects.toThrow(PersistenceError);
      await expect(saver.getMeta('k')).rejects.toThrow(PersistenceError);
    });

    if (durable) {
      it('keeps tasks, events and meta across close and reopen, and seqs keep rising', async () => {
        const events = await saver.commit({ put: [fullTask(), bareTask()], events: [event('a'), event('b')] });
        await saver.commit({ remove: [bareTask().arn] });
        await saver.setMeta('agent-id', 'abc');
        await saver.close();

        const reopened = await sut.reopen!();
        expect(await reopened.loadTasks()).toStrictEqual([fullTask()]);
        expect(await reopened.eventsAfter(0, 10)).toEqual(events);
        expect(await reopened.getMeta('agent-id')).toBe('abc');
        expect(await reopened.lastSeq()).toBe(events[1]!.seq);
        const [next] = await reopened.commit({ events: [event('c')] });
        expect(next!.seq).toBe(events[1]!.seq + 1);
      });
    }
  });
}

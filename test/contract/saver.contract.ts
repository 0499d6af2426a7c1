import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewStateChange } from '../../src/api/events.js';
import { PARSE_RULES_VERSION } from '../../src/api/rules-version.js';
import { containerDefinition, TASK_DEFAULTS, type ContainerDefinition, type ContainerState, type TaskDefinition, type TaskState } from '../../src/api/task.js';
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

/**
 * A definition with every field set, none to its default: what the stored model must keep. Its
 * bounds are not the parser's business here (a stopTimeout past the input limit must still load).
 */
export function fullDefinition(name: string): ContainerDefinition {
  return {
    name,
    image: '127.0.0.1:5000/berth/busybox:latest',
    command: ['sh', '-c', 'sleep 1'],
    entryPoint: ['/bin/sh'],
    environment: { GREETING: 'hello', EMPTY: '' },
    essential: false,
    labels: { team: 'core' },
    stopTimeout: 45,
    startTimeout: 20,
    portMappings: [
      { containerPort: 80, hostPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1', name: 'http' },
      { containerPort: 53, protocol: 'udp', hostIp: '::1' },
    ],
    dependsOn: [{ containerName: 'a-sidecar', condition: 'HEALTHY' }],
    healthCheck: { command: ['CMD-SHELL', 'wget -q -O- localhost || exit 1'], interval: 10, timeout: 3, retries: 2, startPeriod: 5 },
    cpu: 512,
    memory: 256,
    memoryReservation: 128,
    ulimits: [{ name: 'nofile', softLimit: 1024, hardLimit: 4096 }],
    user: '1000:1000',
    workingDirectory: '/srv',
    interactive: true,
    pseudoTerminal: true,
    readonlyRootFilesystem: true,
    privileged: true,
    dockerSecurityOptions: ['no-new-privileges'],
    systemControls: { 'net.core.somaxconn': '1024' },
    links: ['a-sidecar:side'],
    hostname: 'app.local',
    dnsServers: ['10.0.0.2'],
    dnsSearchDomains: ['example.internal'],
    extraHosts: [{ hostname: 'db', ipAddress: '10.0.0.9' }],
    disableNetworking: true,
    mountPoints: [{ sourceVolume: 'data', containerPath: '/data', readOnly: true }],
    volumesFrom: [{ sourceContainer: 'a-sidecar', readOnly: true }],
    linuxParameters: {
      initProcessEnabled: true,
      sharedMemorySize: 64,
      tmpfs: [{ containerPath: '/tmp', size: 16, mountOptions: ['noexec'] }],
      capabilities: { add: ['NET_ADMIN'], drop: ['MKNOD'] },
      devices: [{ hostPath: '/dev/fuse', containerPath: '/dev/fuse', permissions: ['read', 'write'] }, { hostPath: '/dev/null' }],
      maxSwap: -1,
      swappiness: 0,
    },
    logConfiguration: { logDriver: 'json-file', options: { 'max-size': '10m' } },
  };
}

/** Every optional field set, including the falsy ones (exitCode 0, an empty reason message, swappiness 0). */
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
        definition: fullDefinition('z-app'),
        dockerName: 'berth-web-3-z-app',
        dockerId: 'c0ffee',
        desiredStatus: 'STOPPED',
        knownStatus: 'STOPPED',
        exitCode: 137,
        reason: { code: 'OutOfMemory', message: 'killed by the kernel' },
        portBindings: [binding],
        health: 'UNHEALTHY',
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
        health: 'HEALTHY',
        createdAt: T0 + 4,
        startedAt: T0 + 5,
        finishedAt: T0 + 6,
      },
    ],
    settings: {
      networkMode: 'host',
      pidMode: 'task',
      ipcMode: 'none',
      volumes: [
        { name: 'data', kind: 'bind', sourcePath: '/srv/data' },
        { name: 'scratch', kind: 'task', autoprovision: false, driver: 'local', driverOpts: {}, labels: {} },
        { name: 'cache', kind: 'shared', autoprovision: true, driver: 'local', driverOpts: { type: 'tmpfs', device: 'tmpfs' }, labels: { owner: 'web' } },
      ],
      cpu: 1024,
      memory: 512,
    },
    provisionedVolumes: ['scratch', 'cache'],
    // Not this build's version (absent means that): a task saved by a build with newer rules.
    rules: PARSE_RULES_VERSION + 1,
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
        health: 'UNHEALTHY',
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

    it('keeps events above keepAfter (a route has yet to deliver them) until the hard cap', async () => {
      const at = (s: number): string => new Date(T0 + s * 1000).toISOString();
      const all = await saver.commit({ events: [1, 2, 3, 4, 5, 6].map((s) => event('x', { at: at(s) })) });
      const seqs = async (): Promise<number[]> => (await saver.eventsAfter(0, 10)).map((e) => e.seq);
      expect(await saver.pruneEvents({ keepLast: 1, olderThan: at(10), keepAfter: all[2]!.seq })).toBe(3);
      expect(await seqs()).toEqual(all.slice(3).map((e) => e.seq));
      expect(await saver.pruneEvents({ keepLast: 0, olderThan: at(0), keepAfter: all[2]!.seq, hardCap: 2 })).toBe(1);
      expect(await seqs()).toEqual(all.slice(4).map((e) => e.seq));
      await expect(saver.pruneEvents({ keepLast: 1, olderThan: at(3), hardCap: -1 })).rejects.toThrow(/hardCap/);
      expect(await saver.lastSeq()).toBe(all[5]!.seq);
    });

    it('gets, sets and overwrites meta', async () => {
      await saver.setMeta('agent-id', 'first');
      await saver.setMeta('other', '');
      await saver.setMeta('agent-id', 'second');
      expect(await saver.getMeta('agent-id')).toBe('second');
      expect(await saver.getMeta('other')).toBe('');
      await expect(saver.setMeta('', 'x')).rejects.toThrow(PersistenceError);
    });

    it('keeps image records: put replaces by ref, remove deletes, both refuse what cannot round-trip', async () => {
      const full = { ref: 'docker.io/library/busybox:latest', imageId: 'sha256:aa', digest: 'sha256:bb', pulledAt: 1_700_000_000_000, lastUsedAt: 1_700_000_100_000 };
      const bare = { ref: '127.0.0.1:5000/berth/variant:1', lastUsedAt: 5 };
      expect(await saver.loadImages()).toEqual([]);
      await saver.saveImages({ put: [bare, full] });
      expect(await saver.loadImages()).toEqual([bare, full]);
      const used = { ...full, lastUsedAt: 1_700_000_200_000 };
      await saver.saveImages({ put: [used], remove: [bare.ref, 'never-saved:1'] });
      expect(await saver.loadImages()).toEqual([used]);
      await expect(saver.saveImages({ put: [{ ...bare, lastUsedAt: 1.5 }] })).rejects.toThrow(/put\[0\]/);
      await expect(saver.saveImages({ put: [{ ...bare, ref: '' }] })).rejects.toThrow(PersistenceError);
      await expect(saver.saveImages({ remove: [''] })).rejects.toThrow(/remove\[0\]/);
      expect(await saver.loadImages()).toEqual([used]);
      if (sut.reopen) {
        saver = await sut.reopen();
        expect(await saver.loadImages()).toEqual([used]);
      }
    });

    it('keeps each source\'s set by (source, arn) and its revision: put replaces, remove deletes, a refused change writes nothing', async () => {
      const def = (arn: string, image = 'registry.test/app:1'): TaskDefinition => ({
        ...TASK_DEFAULTS,
        arn,
        family: 'web',
        version: '1',
        containers: [containerDefinition({ name: 'app', image, environment: { NOTE: 'quote " and ü' } })],
      });
      const a = { source: 'api', arn: 'arn:berth:task/a', origin: 'POST /v1/tasks', claim: 1, definition: def('arn:berth:task/a') };
      const m = { source: 'manifests', arn: 'arn:berth:task/a', origin: 'a.json', claim: 2, definition: def('arn:berth:task/a', 'registry.test/app:2') };
      const b = { source: 'manifests', arn: 'arn:berth:task/b', origin: 'b.yaml', claim: 3, definition: def('arn:berth:task/b') };
      expect(await saver.loadSources()).toEqual({ tasks: [], revisions: {} });
      await saver.saveSources({ put: [b, m, a], revisions: [{ source: 'etcd', revision: '41' }] });
      expect(await saver.loadSources()).toStrictEqual({ tasks: [a, m, b], revisions: { etcd: '41' } });
      const moved = { ...b, origin: 'b2.yaml', definition: def('arn:berth:task/b', 'registry.test/app:3') };
      await saver.saveSources({ put: [moved], remove: [{ source: 'manifests', arn: a.arn }, { source: 'never', arn: 'x' }], revisions: [{ source: 'etcd', revision: '42' }] });
      const expected = { tasks: [a, moved], revisions: { etcd: '42' } };
      expect(await saver.loadSources()).toStrictEqual(expected);
      await expect(saver.saveSources({ put: [{ ...a, arn: 'arn:berth:task/other' }], remove: [{ source: 'api', arn: a.arn }] })).rejects.toThrow(/put\[0\]\.definition\.arn/);
      await expect(saver.saveSources({ put: [{ ...a, claim: 0 }] })).rejects.toThrow(PersistenceError);
      await expect(saver.saveSources({ remove: [{ source: '', arn: 'x' }] })).rejects.toThrow(/remove\[0\]\.source/);
      expect(await saver.loadSources()).toStrictEqual(expected);
      if (sut.reopen) {
        saver = await sut.reopen();
        expect(await saver.loadSources()).toStrictEqual(expected);
      }
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
    const withBare = (edit: Record<string, unknown>): TaskState => ({ ...bareTask(), containers: [{ ...bare!, ...edit } as ContainerState] });
    const withDefinition = (edit: Record<string, unknown>): TaskState => withBare({ definition: { ...bare!.definition, ...edit } });
    // Each names the offending field by its path in the commit (the test puts one valid event first).
    const invalid: [string, StateCommit, RegExp][] = [
      ['an event with an unknown status', { events: [event('x'), event('x', { status: 'EXPLODED' as never })] }, /events\[2\]\.status is "EXPLODED", not one of NONE/],
      ['an event with an unknown type', { events: [event('x', { type: 'pod' as never })] }, /events\[1\]\.type is "pod"/],
      ['a task with duplicate container names', { put: [{ ...fullTask(), containers: [app!, app!] }] }, /put\[0\]\.containers\[1\]\.definition\.name duplicates container name "z-app"/],
      ['a task both put and removed', { put: [fullTask()], remove: [fullTask().arn] }, /put\[0\]\.arn .* both put and removed/],
      ['a task put twice', { put: [fullTask(), fullTask()] }, /put\[1\]\.arn .* put twice/],
      ['a non-integer exit code', { put: [withBare({ exitCode: NaN })] }, /put\[0\]\.containers\[0\]\.exitCode must be an integer, got NaN/],
      ['an unknown task status', { put: [{ ...bareTask(), knownStatus: 'DONE' as never }] }, /put\[0\]\.knownStatus is "DONE"/],
      ['a parse-rules version below 1', { put: [{ ...bareTask(), rules: 0 }] }, /put\[0\]\.rules must be an integer of at least 1, got 0/],
      ['a task without containers', { put: [{ ...bareTask(), containers: [] }] }, /put\[0\]\.containers must be a non-empty array/],
      ['an unknown health status', { put: [withBare({ health: 'SICK' })] }, /put\[0\]\.containers\[0\]\.health is "SICK", not one of UNKNOWN, HEALTHY, UNHEALTHY/],
      ['an unknown network mode', { put: [{ ...bareTask(), settings: { networkMode: 'awsvpc' as never, volumes: [] } }] }, /put\[0\]\.settings\.networkMode is "awsvpc"/],
      ['a volume of an unknown kind', { put: [{ ...bareTask(), settings: { networkMode: 'bridge', volumes: [{ name: 'v', kind: 'efs' } as never] } }] }, /put\[0\]\.settings\.volumes\[0\]\.kind is "efs"/],
      // It would be saved and then dropped on load: a key the records do not declare cannot round-trip.
      ['a definition key the stored model does not declare', { put: [withDefinition({ gpu: true })] }, /put\[0\]\.containers\[0\]\.definition\.gpu is not a field of the stored model/],
      ['a task field the records do not declare', { put: [{ ...bareTask(), shard: 2 } as TaskState] }, /put\[0\]\.shard is not a field of the stored model/],
      ['a definition without its image', { put: [withDefinition({ image: undefined })] }, /put\[0\]\.containers\[0\]\.definition\.image is missing/],
      ['a number JSON cannot hold', { put: [withDefinition({ memory: Infinity })] }, /definition\.memory must be a finite number, got Infinity/],
      ['a class instance where JSON is kept', { put: [withDefinition({ environment: new Map() })] }, /definition\.environment must be an object/],
      ['an event with an unknown health status', { events: [event('x', { type: 'container', health: 'SICK' as never })] }, /events\[1\]\.health is "SICK"/],
    ];
    it.each(invalid)('rejects a commit with %s and writes none of it', async (_label, bad, message) => {
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
      await expect(rejected).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(message) });
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

import { describe, expect, it } from 'vitest';
import type { ContainerDefinition, TaskDefinition, TaskState } from '../../../src/api/task.js';
import { holdsResources, neverFits, planAdmission } from '../../../src/engine/admission/admission-plan.js';
import type { HostCapacity } from '../../../src/engine/admission/host-resources.js';
import { reservationOf, reservationOfTask } from '../../../src/engine/admission/reservation.js';
import { newTaskState } from '../../../src/engine/task-state.js';
import { AGENT_ID, containerDef, taskDef } from '../../support/fixtures.js';

/* The admission rule, pure: what a task reserves, and which waiting tasks the host admits in what order. */

const HOST: HostCapacity = { memoryMiB: 1000, cpuUnits: 2048 };
const tcp = (hostPort: number, hostIp = '127.0.0.1') => ({ containerPort: 80, hostPort, protocol: 'tcp' as const, hostIp });

interface Spec {
  /** Memory (MiB) of the task's one container, as memoryReservation. */
  readonly mem?: number;
  readonly cpu?: number;
  readonly port?: number;
  /** Holding: admitted and running; a number: waiting at that queue position; 'stopped': admitted and stopped. */
  readonly state: 'holding' | 'stopped' | number;
}

function task(name: string, s: Spec): TaskState {
  const c = containerDef('app', {
    ...(s.mem === undefined ? {} : { memoryReservation: s.mem }),
    ...(s.cpu === undefined ? {} : { cpu: s.cpu }),
    ...(s.port === undefined ? {} : { portMappings: [tcp(s.port)] }),
  });
  const base = newTaskState(taskDef(name, [c]), 1_000, AGENT_ID);
  if (s.state === 'holding') return { ...base, knownStatus: 'RUNNING' };
  if (s.state === 'stopped') return { ...base, knownStatus: 'STOPPED', desiredStatus: 'STOPPED' };
  return { ...base, waiting: { position: s.state, message: '' } };
}

const cases: Array<{ name: string; tasks: Record<string, Spec>; admit: string[]; waiting?: Record<string, string> }> = [
  {
    name: 'admits waiting tasks in queue order while they fit',
    tasks: { a: { mem: 400, state: 2 }, b: { mem: 400, state: 1 }, c: { mem: 400, state: 3 } },
    admit: ['b', 'a'],
    waiting: { c: 'needs 400 MiB memory, 0 CPU units; free: 200 MiB, 2048 CPU units' },
  },
  {
    name: 'strict FIFO: a small task behind a big one that does not fit waits too',
    tasks: { held: { mem: 600, state: 'holding' }, big: { mem: 500, state: 1 }, small: { mem: 10, state: 2 } },
    admit: [],
    waiting: { big: 'needs 500 MiB memory, 0 CPU units; free: 400 MiB, 2048 CPU units', small: 'queued behind task big, which waits for resources' },
  },
  {
    name: 'a stopped task holds nothing',
    tasks: { old: { mem: 900, state: 'stopped' }, next: { mem: 900, state: 1 } },
    admit: ['next'],
  },
  {
    name: 'CPU counts like memory',
    tasks: { held: { cpu: 1024, state: 'holding' }, w: { cpu: 1536, state: 1 } },
    admit: [],
    waiting: { w: 'needs 0 MiB memory, 1536 CPU units; free: 1000 MiB, 1024 CPU units' },
  },
  {
    name: 'a static host port another task holds blocks, naming the holder',
    tasks: { held: { port: 8080, state: 'holding' }, w: { port: 8080, state: 1 }, other: { port: 8081, state: 2 } },
    admit: [],
    waiting: { w: 'host port 127.0.0.1:8080/tcp is held by task held', other: 'queued behind task w, which waits for resources' },
  },
  {
    name: 'two waiting tasks on one port: the first is admitted, the second then waits for it',
    tasks: { first: { port: 9000, state: 1 }, second: { port: 9000, state: 2 } },
    admit: ['first'],
    waiting: { second: 'host port 127.0.0.1:9000/tcp is held by task first' },
  },
  {
    name: 'a task that can never fit is passed over, not a block on the queue for good',
    tasks: { huge: { mem: 5000, state: 1 }, next: { mem: 100, state: 2 } },
    admit: ['next'],
    waiting: { huge: 'can never be admitted on this host: needs 5000 MiB of memory, more than the 1000 MiB this host has for tasks (its memory less --reserved-memory)' },
  },
];

describe('planAdmission', () => {
  it.each(cases)('$name', ({ tasks, admit, waiting }) => {
    const plan = planAdmission(Object.entries(tasks).map(([name, s]) => task(name, s)), HOST);
    expect(plan.admit).toEqual(admit);
    expect(Object.fromEntries(plan.waiting)).toEqual(waiting ?? {});
  });

  it('a task saved before admission existed (no waiting record) holds resources unless STOPPED', () => {
    expect(holdsResources(task('t', { state: 'holding' }))).toBe(true);
    expect(holdsResources({ ...task('t', { state: 'holding' }), knownStatus: 'NONE' })).toBe(true);
    expect(holdsResources(task('t', { state: 'stopped' }))).toBe(false);
    expect(holdsResources(task('t', { state: 1 }))).toBe(false);
  });

  it('a waiting task asked to stop has left the queue: it neither waits nor holds', () => {
    const left = { ...task('gone', { mem: 900, state: 1 }), desiredStatus: 'STOPPED' as const };
    const plan = planAdmission([left, task('next', { mem: 900, state: 2 })], HOST);
    expect(plan.admit).toEqual(['next']);
    expect(plan.waiting.has('gone')).toBe(false);
  });

  it('queue order is the saved position, not creation time', () => {
    const later = { ...task('z-first', { mem: 600, state: 1 }), createdAt: 9_000 };
    const earlier = { ...task('a-second', { mem: 600, state: 2 }), createdAt: 1_000 };
    expect(planAdmission([earlier, later], HOST).admit).toEqual(['z-first']);
  });
});

describe('reservationOf', () => {
  const def = (containers: ContainerDefinition[], extra: Partial<TaskDefinition> = {}) => {
    const d = taskDef('arn:r', containers, extra);
    return reservationOf({ settings: d, definitions: d.containers });
  };

  it('memory: memoryReservation, else memory, summed over containers; the task-level memory wins', () => {
    const cs = [containerDef('a', { memory: 512, memoryReservation: 128 }), containerDef('b', { memory: 256 }), containerDef('c')];
    expect(def(cs)).toMatchObject({ memoryMiB: 384, memoryFrom: 'containers' });
    expect(def(cs, { memory: 2048 })).toMatchObject({ memoryMiB: 2048, memoryFrom: 'task' });
  });

  it("cpu: the containers' units, the default share (2) counting 0 as ECS counts none; the task-level cpu wins", () => {
    const cs = [containerDef('a', { cpu: 256 }), containerDef('b')];
    expect(def(cs)).toMatchObject({ cpuUnits: 256, cpuFrom: 'containers' });
    expect(def(cs, { cpu: 1024 })).toMatchObject({ cpuUnits: 1024, cpuFrom: 'task' });
  });

  it('ports: only static host ports; with host networking the port binds every host address', () => {
    const dynamic = { containerPort: 81, protocol: 'udp' as const, hostIp: '127.0.0.1' };
    expect(def([containerDef('a', { portMappings: [tcp(8080), dynamic] })]).ports).toEqual([{ protocol: 'tcp', port: 8080, hostIp: '127.0.0.1' }]);
    expect(def([containerDef('a', { portMappings: [tcp(8080)] })], { networkMode: 'host' }).ports).toEqual([{ protocol: 'tcp', port: 8080, hostIp: '0.0.0.0' }]);
  });

  it('ports on different addresses do not collide; 0.0.0.0 collides with every address; protocols apart', () => {
    const holder = task('held', { port: 8080, state: 'holding' });
    const on = (hostIp: string, protocol: 'tcp' | 'udp' = 'tcp') => {
      const t = newTaskState(taskDef('w', [containerDef('app', { portMappings: [{ ...tcp(8080, hostIp), protocol }] })]), 1_000, AGENT_ID);
      return planAdmission([holder, { ...t, waiting: { position: 1, message: '' } }], HOST).admit;
    };
    expect(on('127.0.0.2')).toEqual(['w']);
    expect(on('0.0.0.0')).toEqual([]);
    expect(on('127.0.0.1', 'udp')).toEqual(['w']);
  });

  it("a task's reservation is the same from its definition and from any of its states", () => {
    const t = task('t', { mem: 300, cpu: 512, port: 7000, state: 'holding' });
    const fromDef = reservationOf({ settings: t.settings, definitions: t.containers.map((c) => c.definition) });
    expect(reservationOfTask(t)).toEqual(fromDef);
    expect(reservationOfTask({ ...t, knownStatus: 'STOPPED' })).toEqual(fromDef);
  });
});

describe('neverFits', () => {
  it('names what is more than the host has for tasks at all', () => {
    expect(neverFits({ memoryMiB: 1000, cpuUnits: 2048, ports: [], memoryFrom: 'task', cpuFrom: 'task' }, HOST)).toEqual([]);
    expect(neverFits({ memoryMiB: 1001, cpuUnits: 4096, ports: [], memoryFrom: 'task', cpuFrom: 'task' }, HOST)).toEqual([
      { resource: 'memory', needs: 1001, has: 1000 },
      { resource: 'cpu', needs: 4096, has: 2048 },
    ]);
  });
});

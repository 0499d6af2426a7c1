// The fake Docker's host ports: which are held, and the lowest free dynamic one, found without
// looking at every binding held (benchmarks start tens of thousands of containers).
import type { PortBinding } from '../api/task.js';
import { PortConflictError } from '../errors.js';
import type { ContainerSpec } from './docker-client.js';

const FIRST_DYNAMIC_PORT = 32768;
const ANY_ADDRESS = new Set(['', '0.0.0.0', '::']);

function overlaps(a: { hostIp: string; protocol: string; hostPort?: number }, b: PortBinding): boolean {
  return (
    a.protocol === b.protocol &&
    a.hostPort === b.hostPort &&
    (a.hostIp === b.hostIp || ANY_ADDRESS.has(a.hostIp) || ANY_ADDRESS.has(b.hostIp))
  );
}

/**
 * Where the next dynamic port for one protocol and address is looked for: every free dynamic
 * port below `next` is in `freed` (a min-heap that may also hold ports taken again since, which
 * are dropped when met), so the lowest free port is the heap's first free entry, else the first
 * free one from `next` up.
 */
interface Cursor {
  next: number;
  readonly freed: number[];
}

/**
 * A dynamic port is the first free one from 32768 up; a static one held by another container
 * fails as Docker's allocator does. Host and none network modes publish nothing (Docker discards
 * the bindings). `work` counts the ports and bindings looked at, for the growth test.
 */
export class FakePorts {
  /** `protocol/port` → the bindings held there (several only with distinct specific addresses). */
  private readonly held = new Map<string, PortBinding[]>();
  private readonly cursors = new Map<string, Cursor>();
  work = 0;

  /** The bindings a starting container gets, now held; on a conflict nothing is held and PortConflictError is thrown. */
  bind(c: { readonly id: string; readonly name: string; readonly spec: ContainerSpec }): PortBinding[] {
    if (c.spec.networkMode === 'host' || c.spec.networkMode === 'none') return [];
    const bound: PortBinding[] = [];
    try {
      for (const m of c.spec.portMappings) {
        let hostPort = m.hostPort;
        if (hostPort === undefined) hostPort = this.lowestFree(m.protocol, m.hostIp);
        else if (this.conflicts({ ...m, hostPort })) {
          const port = `${m.hostIp}:${hostPort}`;
          throw new PortConflictError(
            'start',
            port,
            `driver failed programming external connectivity on endpoint ${c.name} (${c.id}): Bind for ${port} failed: port is already allocated`,
          );
        }
        const binding = { containerPort: m.containerPort, hostPort, protocol: m.protocol, hostIp: m.hostIp };
        this.hold(binding);
        bound.push(binding);
      }
    } catch (err) {
      this.release(bound);
      throw err;
    }
    return bound;
  }

  /** The container exited: its ports are free again. */
  release(bindings: readonly PortBinding[]): void {
    for (const b of bindings) {
      const key = `${b.protocol}/${b.hostPort}`;
      const list = this.held.get(key) ?? [];
      const at = list.indexOf(b);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) this.held.delete(key);
      if (b.hostPort < FIRST_DYNAMIC_PORT) continue;
      for (const [cursorKey, cursor] of this.cursors) {
        if (cursorKey.startsWith(`${b.protocol}|`) && b.hostPort < cursor.next) push(cursor.freed, b.hostPort);
      }
    }
  }

  private conflicts(wanted: { hostIp: string; protocol: string; hostPort: number }): boolean {
    const list = this.held.get(`${wanted.protocol}/${wanted.hostPort}`) ?? [];
    this.work += 1 + list.length;
    return list.some((b) => overlaps(wanted, b));
  }

  private lowestFree(protocol: string, hostIp: string): number {
    const address = ANY_ADDRESS.has(hostIp) ? '*' : hostIp;
    const key = `${protocol}|${address}`;
    let cursor = this.cursors.get(key);
    if (!cursor) this.cursors.set(key, (cursor = { next: FIRST_DYNAMIC_PORT, freed: [] }));
    while (cursor.freed.length > 0) {
      const port = pop(cursor.freed);
      if (!this.conflicts({ protocol, hostIp, hostPort: port })) return port;
    }
    while (this.conflicts({ protocol, hostIp, hostPort: cursor.next })) cursor.next++;
    return cursor.next++;
  }

  private hold(b: PortBinding): void {
    const key = `${b.protocol}/${b.hostPort}`;
    const list = this.held.get(key);
    if (list) list.push(b);
    else this.held.set(key, [b]);
  }
}

function push(heap: number[], value: number): void {
  heap.push(value);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= heap[i]!) break;
    [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
    i = parent;
  }
}

function pop(heap: number[]): number {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length > 0) {
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < heap.length && heap[l]! < heap[min]!) min = l;
      if (r < heap.length && heap[r]! < heap[min]!) min = r;
      if (min === i) break;
      [heap[min], heap[i]] = [heap[i]!, heap[min]!];
      i = min;
    }
  }
  return top;
}

import { hostAddressesOverlap } from '../../api/host-ports.js';
import { isWaitingForResources, type TaskState } from '../../api/task.js';
import type { HostCapacity } from './host-resources.js';
import { formatPort, reservationOfTask, type HostPort, type Reservation } from './reservation.js';

/**
 * The admission rule, pure: from every task's state and the host's capacity, which waiting tasks
 * to admit now and what the others wait for. Like ECS's agent (monitorQueuedTasks), the queue is
 * strictly first come, first served: once the task at the head does not fit, every task behind it
 * waits too, even one small enough to fit, so a big task is never starved by a stream of small
 * ones. A task that could never fit on this host (its capacity shrank since the task was queued)
 * is passed over rather than blocking the queue for good.
 */

/** Admitted and not yet known STOPPED: its reservation is taken (ECS releases on the task's stop). */
export function holdsResources(task: TaskState): boolean {
  return task.waiting === undefined && task.knownStatus !== 'STOPPED';
}

export interface AdmissionPlan {
  /** Waiting tasks to admit now, in queue order. */
  readonly admit: readonly string[];
  /** Every task left waiting, with what it waits for. */
  readonly waiting: ReadonlyMap<string, string>;
}

export function planAdmission(tasks: Iterable<TaskState>, capacity: HostCapacity): AdmissionPlan {
  const used = new Usage();
  const queue: TaskState[] = [];
  for (const t of tasks) {
    if (holdsResources(t)) used.add(t.arn, reservationOfTask(t));
    else if (isWaitingForResources(t)) queue.push(t);
  }
  queue.sort((a, b) => a.waiting!.position - b.waiting!.position || (a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0));
  const admit: string[] = [];
  const waiting = new Map<string, string>();
  let head: string | undefined;
  for (const t of queue) {
    const r = reservationOfTask(t);
    const never = neverFits(r, capacity);
    if (never.length > 0) {
      waiting.set(t.arn, `can never be admitted on this host: ${never.map((n) => `needs ${neverFitsText(n)}`).join('; ')}`);
      continue;
    }
    if (head !== undefined) {
      waiting.set(t.arn, `queued behind task ${head}, which waits for resources`);
      continue;
    }
    const shortfall = used.shortfall(r, capacity);
    if (shortfall === undefined) {
      admit.push(t.arn);
      used.add(t.arn, r);
    } else {
      head = t.arn;
      waiting.set(t.arn, shortfall);
    }
  }
  return { admit, waiting };
}

export interface NeverFits {
  readonly resource: 'memory' | 'cpu';
  /** What the task reserves, and what the host has for tasks in all. */
  readonly needs: number;
  readonly has: number;
}

/** What of a reservation is more than the host has for tasks at all: such a task could never start. */
export function neverFits(r: Reservation, capacity: HostCapacity): NeverFits[] {
  const out: NeverFits[] = [];
  if (r.memoryMiB > capacity.memoryMiB) out.push({ resource: 'memory', needs: r.memoryMiB, has: capacity.memoryMiB });
  if (r.cpuUnits > capacity.cpuUnits) out.push({ resource: 'cpu', needs: r.cpuUnits, has: capacity.cpuUnits });
  return out;
}

/** `2048 MiB of memory, more than the 1000 MiB this host has for tasks (its memory less --reserved-memory)` */
export function neverFitsText(n: NeverFits): string {
  return n.resource === 'memory'
    ? `${n.needs} MiB of memory, more than the ${n.has} MiB this host has for tasks (its memory less --reserved-memory)`
    : `${n.needs} CPU units, more than the ${n.has} this host has for tasks (its CPUs × 1024 less --reserved-cpu)`;
}

/** What the tasks holding resources have taken. */
class Usage {
  private memoryMiB = 0;
  private cpuUnits = 0;
  private readonly ports: Array<{ readonly port: HostPort; readonly arn: string }> = [];

  add(arn: string, r: Reservation): void {
    this.memoryMiB += r.memoryMiB;
    this.cpuUnits += r.cpuUnits;
    for (const port of r.ports) this.ports.push({ port, arn });
  }

  /** Undefined when `r` fits in what is left; else what is missing, for the task's view. */
  shortfall(r: Reservation, capacity: HostCapacity): string | undefined {
    const parts: string[] = [];
    const freeMemory = capacity.memoryMiB - this.memoryMiB;
    const freeCpu = capacity.cpuUnits - this.cpuUnits;
    if (r.memoryMiB > freeMemory || r.cpuUnits > freeCpu) {
      parts.push(`needs ${r.memoryMiB} MiB memory, ${r.cpuUnits} CPU units; free: ${Math.max(0, freeMemory)} MiB, ${Math.max(0, freeCpu)} CPU units`);
    }
    for (const wanted of r.ports) {
      const holder = this.ports.find(
        (h) => h.port.port === wanted.port && h.port.protocol === wanted.protocol && hostAddressesOverlap(h.port.hostIp, wanted.hostIp),
      );
      if (holder) parts.push(`host port ${formatPort(wanted)} is held by task ${holder.arn}`);
    }
    return parts.length === 0 ? undefined : parts.join('; ');
  }
}

import { CONTAINER_DEFAULTS, type ContainerDefinition, type NetworkMode, type Protocol, type TaskSettings, type TaskState } from '../../api/task.js';

/**
 * What a task reserves on the host while it holds resources: the one rule, as ECS's agent counts
 * it (Task.ToHostResources):
 * - memory: the task-level `memory` if set, else the sum over containers of `memoryReservation`,
 *   else `memory` (a container with neither reserves none);
 * - CPU: the task-level `cpu` if set, else the sum of the containers' `cpu` units. The model keeps
 *   a container's cpu of 0, 1, 2 or none as Docker's smallest share, 2; those count 0, as ECS
 *   counts an absent cpu (an explicit 1 or 2 is thus counted 1 or 2 units short);
 * - static host ports: every port mapping with a hostPort (with host networking, the containerPort
 *   itself), by protocol and host address. Dynamic ports are Docker's to pick and never collide.
 */

export interface HostPort {
  readonly protocol: Protocol;
  readonly port: number;
  /** With host networking the container binds the host's own addresses: 0.0.0.0, which overlaps all. */
  readonly hostIp: string;
}

export interface Reservation {
  readonly memoryMiB: number;
  readonly cpuUnits: number;
  readonly ports: readonly HostPort[];
  /** Which field the amounts come from, for messages that name it. */
  readonly memoryFrom: 'task' | 'containers';
  readonly cpuFrom: 'task' | 'containers';
}

/** A task definition or a task's state: the parts that reserve anything. */
export interface Reservable {
  readonly settings: Pick<TaskSettings, 'networkMode' | 'cpu' | 'memory'>;
  readonly definitions: readonly ContainerDefinition[];
}

export function reservationOf({ settings, definitions }: Reservable): Reservation {
  const ports = definitions.flatMap((d) => d.portMappings.flatMap((m) => (m.hostPort === undefined ? [] : [hostPort(settings.networkMode, m.protocol, m.hostPort, m.hostIp)])));
  return {
    memoryMiB: settings.memory ?? definitions.reduce((sum, d) => sum + (d.memoryReservation ?? d.memory ?? 0), 0),
    cpuUnits: settings.cpu ?? definitions.reduce((sum, d) => sum + (d.cpu > CONTAINER_DEFAULTS.cpu ? d.cpu : 0), 0),
    ports,
    memoryFrom: settings.memory === undefined ? 'containers' : 'task',
    cpuFrom: settings.cpu === undefined ? 'containers' : 'task',
  };
}

function hostPort(mode: NetworkMode, protocol: Protocol, port: number, hostIp: string): HostPort {
  return { protocol, port, hostIp: mode === 'host' ? '0.0.0.0' : hostIp };
}

/**
 * A task's settings and definitions never change once it is accepted, and are shared by all its
 * successive states: the reservation is worked out once per task, not on every admission pass.
 */
const cache = new WeakMap<object, { readonly definitions: readonly ContainerDefinition[]; readonly reservation: Reservation }>();

export function reservationOfTask(task: TaskState): Reservation {
  const hit = cache.get(task.settings);
  if (hit && hit.definitions.length === task.containers.length && hit.definitions.every((d, i) => d === task.containers[i]!.definition)) {
    return hit.reservation;
  }
  const definitions = task.containers.map((c) => c.definition);
  const reservation = reservationOf({ settings: task.settings, definitions });
  cache.set(task.settings, { definitions, reservation });
  return reservation;
}

export function formatPort(p: HostPort): string {
  return `${p.hostIp}:${p.port}/${p.protocol}`;
}

/**
 * Container statuses, in the order a container lives through them.
 *
 * - `NONE`    — known to the agent, nothing done in Docker yet.
 * - `PULLED`  — its image is present on the host.
 * - `CREATED` — a Docker container exists (its ID is saved).
 * - `RUNNING` — the Docker container is running.
 * - `STOPPED` — the Docker container exited, was never started, or is gone. Terminal.
 *
 * A known status only moves forward along this order; a desired status only rises.
 * That rule is what makes duplicate and out-of-order Docker events harmless. The order holds per
 * incarnation: a container its restartPolicy restarts in place begins a new one at CREATED
 * (nextIncarnation in src/engine/transitions.ts, the one step back).
 */
export const CONTAINER_STATUSES = ['NONE', 'PULLED', 'CREATED', 'RUNNING', 'STOPPED'] as const;
export type ContainerStatus = (typeof CONTAINER_STATUSES)[number];

/** What the control plane may ask for: a task and its containers either run or stop. */
export const DESIRED_STATUSES = ['RUNNING', 'STOPPED'] as const;
export type DesiredStatus = (typeof DESIRED_STATUSES)[number];

/** A task's known status is derived from its containers, so it shares their scale. */
export type TaskStatus = ContainerStatus;

const RANK: Readonly<Record<ContainerStatus, number>> = {
  NONE: 0,
  PULLED: 1,
  CREATED: 2,
  RUNNING: 3,
  STOPPED: 4,
};

export function statusRank(status: ContainerStatus): number {
  return RANK[status];
}

/** True when `a` comes strictly after `b` in the lifecycle. */
export function isAfter(a: ContainerStatus, b: ContainerStatus): boolean {
  return RANK[a] > RANK[b];
}

/** Forward-only merge: the later of the two statuses. */
export function laterStatus(a: ContainerStatus, b: ContainerStatus): ContainerStatus {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Forward-only merge for desired statuses: STOPPED wins over RUNNING. */
export function higherDesired(a: DesiredStatus, b: DesiredStatus): DesiredStatus {
  return a === 'STOPPED' || b === 'STOPPED' ? 'STOPPED' : 'RUNNING';
}

export function isContainerStatus(value: string): value is ContainerStatus {
  return (CONTAINER_STATUSES as readonly string[]).includes(value);
}

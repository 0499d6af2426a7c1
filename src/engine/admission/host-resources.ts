import { availableParallelism, totalmem } from 'node:os';

/**
 * What the host offers tasks, as the ECS agent's host resource manager counts it: CPU units (1024
 * a CPU, as ECS's `cpu` fields count them) and memory in MiB, less what the operator keeps back.
 */

/** The host as the operating system reports it. */
export interface HostDescription {
  readonly cpus: number;
  readonly memoryMiB: number;
}

/** What tasks may reserve in all: the host less the reserved amounts. */
export interface HostCapacity {
  readonly cpuUnits: number;
  readonly memoryMiB: number;
}

/** ECS's CPU units: one CPU is 1024. */
export const CPU_UNITS_PER_CPU = 1024;

const MIB = 1024 * 1024;

/** The one place the host's size is read; everything else is handed it (tests hand their own). */
export function readHost(): HostDescription {
  return { cpus: availableParallelism(), memoryMiB: Math.floor(totalmem() / MIB) };
}

export function hostCpuUnits(host: HostDescription): number {
  return host.cpus * CPU_UNITS_PER_CPU;
}

export function capacityOf(host: HostDescription, reserved: { readonly memoryMiB: number; readonly cpuUnits: number }): HostCapacity {
  return { cpuUnits: hostCpuUnits(host) - reserved.cpuUnits, memoryMiB: host.memoryMiB - reserved.memoryMiB };
}

/** No bound on CPU or memory (an engine built without a host, as in most tests); static ports still count. */
export const UNBOUNDED: HostCapacity = { cpuUnits: Number.POSITIVE_INFINITY, memoryMiB: Number.POSITIVE_INFINITY };

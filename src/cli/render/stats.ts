import type { StatsView, UsageView } from '../../api/stats-view.js';
import { durationText, table } from './format.js';

/** `agent task stats`: one row per running container, as `docker stats` shows them. */
export function statsTable(view: StatsView): string {
  if (!view.enabled) return `container stats are ${view.detail ?? 'off'}`;
  if (view.containers.length === 0) return `no running container sampled yet (sampled every ${durationText(view.intervalMs)})`;
  return table(
    ['task', 'task family', 'container', 'cpu %', 'mem usage / limit', 'net i/o', 'block i/o'],
    view.containers.map((u: UsageView) => [
      u.taskArn,
      u.taskFamily,
      u.container,
      u.cpuPercent === null ? '-' : `${u.cpuPercent.toFixed(2)}%`,
      `${binaryBytes(u.memoryUsageBytes)} / ${binaryBytes(u.memoryLimitBytes)}`,
      `${decimalBytes(u.network.rxBytes)} / ${decimalBytes(u.network.txBytes)}`,
      `${decimalBytes(u.blockIo.readBytes)} / ${decimalBytes(u.blockIo.writeBytes)}`,
    ]),
  );
}

// As the Docker CLI writes them (go-units): memory in powers of 1024, I/O in powers of 1000, 4 significant digits.
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

export function binaryBytes(n: number): string {
  return scaled(n, 1024, BINARY);
}

export function decimalBytes(n: number): string {
  return scaled(n, 1000, DECIMAL);
}

function scaled(n: number, base: number, units: readonly string[]): string {
  let value = n;
  let i = 0;
  while (value >= base && i < units.length - 1) {
    value /= base;
    i += 1;
  }
  return `${Number(value.toPrecision(4))}${units[i]}`;
}

import type { PortBinding } from '../../api/task.js';

/** Left-aligned columns, two spaces apart; the header is upper-case. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], indent = ''): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    indent + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n');
}

/** `3s`, `4m`, `2h10m`, `3d4h`: how long ago, at a glance. */
export function age(fromMs: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - fromMs) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ''}`;
}

/** A configured length of time, exact enough to recognize the flag's value: `200ms`, `90s` → `1m30s`. */
export function durationText(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  return age(0, ms);
}

export function shortId(id: string | undefined): string {
  return id ? id.slice(0, 12) : '-';
}

export function ports(bindings: readonly PortBinding[]): string {
  return bindings.length === 0 ? '-' : bindings.map((b) => `${b.hostIp}:${b.hostPort}->${b.containerPort}/${b.protocol}`).join(',');
}

/** `ContainerExited: container web exited with exit code 137`, or `-`. */
export function reasonText(code: string | undefined, message: string | undefined): string {
  if (!code) return '-';
  return message ? `${code}: ${message}` : code;
}

export function exitText(exitCode: number | undefined): string {
  return exitCode === undefined ? '-' : String(exitCode);
}

/** A container's restarts in place, as kubectl counts them: `0`, or `2 (last exit 3)`. */
export function restartsText(restartCount: number | undefined, lastExitCode: number | undefined): string {
  if (!restartCount) return '0';
  return lastExitCode === undefined ? String(restartCount) : `${restartCount} (last exit ${lastExitCode})`;
}

/** An ISO time with how long ago it was, e.g. `2026-11-21T23:53:14.800Z (6s ago)`. */
export function timeAgo(iso: string | undefined, nowMs: number): string {
  if (!iso) return '-';
  return `${iso} (${age(Date.parse(iso), nowMs)} ago)`;
}

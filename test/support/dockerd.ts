import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker } from './agent-process.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const PID_FILE = '/var/run/docker.pid';

/** Whether the running daemon keeps containers alive across its own restart. */
export function liveRestoreEnabled(): boolean {
  return docker('info', '--format', '{{.LiveRestoreEnabled}}') === 'true';
}

/** Whether a daemon answers on the default socket now. */
export function dockerdAnswers(): boolean {
  try {
    docker('version', '--format', '{{.Server.Version}}');
    return true;
  } catch {
    return false;
  }
}

/** Stops dockerd as an init system would (SIGTERM) and waits, at most `ms`, for the process to end. */
export async function stopDockerd(ms = 90_000): Promise<void> {
  const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${PID_FILE} does not hold a pid`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`dockerd (pid ${pid}) did not exit within ${ms} ms of SIGTERM`);
}

/** Starts dockerd through the idempotent setup script, with or without `--live-restore`. */
export function startDockerd(options: { liveRestore: boolean }): void {
  execFileSync('bash', [join(ROOT, 'scripts/setup-docker.sh')], {
    env: { ...process.env, BERTH_DOCKERD_ARGS: options.liveRestore ? '--live-restore' : '' },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 180_000,
  });
}

/** Puts the daemon in the wanted mode, restarting it only when it is in the other one. */
export async function ensureDockerd(options: { liveRestore: boolean }): Promise<void> {
  if (liveRestoreEnabled() === options.liveRestore) return;
  await stopDockerd();
  startDockerd(options);
}

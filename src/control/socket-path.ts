import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { ConfigError } from '../errors.js';

/**
 * Makes `path` ready to listen on: its directory exists with mode 0700 (0710 and owned by the
 * group when `gid` is given, so members can reach the socket but not list or read the directory);
 * a socket left by a crashed agent is removed; a live socket (another agent answering) or a path
 * that is not a socket stops the start with a clear message instead of being clobbered.
 */
export async function prepareSocketPath(path: string, gid?: number): Promise<void> {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (gid === undefined) {
    chmodSync(dir, 0o700);
  } else {
    chownSync(dir, -1, gid);
    chmodSync(dir, 0o710);
  }
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket()) {
    throw new ConfigError(`${path} exists and is not a socket; refusing to replace it (move it away or choose --socket)`);
  }
  if (await answers(path)) {
    throw new ConfigError(`another agent is already serving on ${path}`);
  }
  unlinkSync(path);
}

/** A group name (looked up in /etc/group) or a numeric gid. */
export function resolveGroup(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  let text = '';
  try {
    text = readFileSync('/etc/group', 'utf8');
  } catch {
    // No group database: only numeric gids work.
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new ConfigError(`socket group ${JSON.stringify(group)} does not exist (not in /etc/group)`);
}

/**
 * Whether something listens on the socket. Only a refused connection proves the socket stale; any
 * other failure (a full backlog, a slow agent) is treated as alive rather than deleting its socket.
 */
export function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(true);
    }, 2_000);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(true);
    });
    s.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code !== 'ECONNREFUSED' && error.code !== 'ENOENT');
    });
  });
}

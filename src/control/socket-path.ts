import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { ConfigError } from '../errors.js';

/**
 * Makes `path` ready to listen on: its directory exists with mode 0700; a socket left by a crashed
 * agent is removed; a live socket (another agent answering) or a path that is not a socket stops
 * the start with a clear message instead of being clobbered.
 */
export async function prepareSocketPath(path: string): Promise<void> {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
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

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

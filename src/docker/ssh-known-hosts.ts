import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/*
 * The ssh host-key policy for an ssh:// Docker host, OpenSSH's StrictHostKeyChecking=accept-new:
 * a host never seen is trusted once and its key written to the known-hosts file; a host whose
 * key differs from the one written is refused, every time, until an operator edits the file.
 * Lines are OpenSSH's plain `host keytype base64` form (`[host]:port` off port 22), so the file
 * can be ~/.ssh/known_hosts itself; hashed (`|1|…`) lines are not matched.
 */

export type HostKeyVerdict = 'known' | 'added' | 'mismatch';

export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Checks `key` (the server's public key blob, as ssh2 hands it over) and records a new host. */
export function verifyHostKey(path: string, host: string, port: number, key: Buffer): HostKeyVerdict {
  const pattern = hostPattern(host, port);
  const blob = key.toString('base64');
  const keyType = key.readUInt32BE(0) <= key.length - 4 ? key.subarray(4, 4 + key.readUInt32BE(0)).toString('latin1') : 'unknown';
  const known = readKnown(path)
    .filter((entry) => entry.hosts.includes(pattern) && entry.keyType === keyType)
    .map((entry) => entry.blob);
  if (known.includes(blob)) return 'known';
  if (known.length > 0) return 'mismatch';
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${pattern} ${keyType} ${blob}\n`, { mode: 0o600 });
  return 'added';
}

function readKnown(path: string): { hosts: string[]; keyType: string; blob: string }[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 3 && !fields[0]!.startsWith('#') && !fields[0]!.startsWith('@'))
    .map((fields) => ({ hosts: fields[0]!.split(','), keyType: fields[1]!, blob: fields[2]! }));
}

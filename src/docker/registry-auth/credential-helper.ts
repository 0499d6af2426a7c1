import { execFile } from 'node:child_process';
import { CredentialHelperError } from '../../errors.js';
import type { RegistryAuth } from '../docker-client.js';

/** Runs `program args` with `input` on stdin; rejects as execFile does (`code`, `killed`, `stdout`, `stderr`). */
export type HelperRunner = (program: string, args: readonly string[], input: string, timeoutMs: number) => Promise<{ stdout: string }>;

/** What a helper's `get` prints, as docker-credential-helpers defines it. */
interface HelperAnswer {
  readonly ServerURL?: unknown;
  readonly Username?: unknown;
  readonly Secret?: unknown;
}

/** A helper's way of saying it holds nothing for the server: the pull goes on without credentials. */
const NOT_FOUND = 'credentials not found in native keychain';
/** A Username that means the Secret is an identity token (an OAuth refresh token), not a password. */
const TOKEN_USERNAME = '<token>';

/** The real runner: the helper as a child process, found on the agent's PATH, killed at the deadline. */
export function execHelper(options: { env?: NodeJS.ProcessEnv } = {}): HelperRunner {
  return (program, args, input, timeoutMs) =>
    new Promise((resolve, reject) => {
      const child = execFile(
        program,
        [...args],
        { timeout: timeoutMs, maxBuffer: 1024 * 1024, encoding: 'utf8', ...(options.env ? { env: options.env } : {}) },
        (error, stdout, stderr) => (error ? reject(Object.assign(error, { stdout, stderr })) : resolve({ stdout })),
      );
      // A helper that exits without reading its input must not crash the agent with EPIPE.
      child.stdin?.on('error', () => {});
      child.stdin?.end(input);
    });
}

/**
 * Asks `docker-credential-<helper> get` for `serverUrl`'s credentials, as Docker's CLI does.
 * Undefined when the helper holds none. Every failure is a CredentialHelperError naming the helper
 * and what went wrong; what the helper printed is quoted only when it failed (an error message,
 * not credentials), and never when it answered.
 */
export async function helperCredentials(
  helper: string,
  serverUrl: string,
  image: string,
  run: HelperRunner,
  timeoutMs: number,
): Promise<RegistryAuth | undefined> {
  const program = `docker-credential-${helper}`;
  let stdout: string;
  try {
    ({ stdout } = await run(program, ['get'], serverUrl, timeoutMs));
  } catch (error) {
    const e = error as { code?: unknown; killed?: boolean; signal?: unknown; stdout?: unknown; stderr?: unknown };
    const said = firstLine(`${String(e.stdout ?? '')}\n${String(e.stderr ?? '')}`);
    if (said === NOT_FOUND) return undefined;
    if (e.code === 'ENOENT') throw new CredentialHelperError(image, program, 'is not on PATH', { retryable: false });
    if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') throw new CredentialHelperError(image, program, 'printed more than 1 MiB');
    if (e.killed) throw new CredentialHelperError(image, program, `did not answer within ${timeoutMs} ms`);
    const how =
      typeof e.code === 'number'
        ? `exited with code ${e.code}`
        : e.signal
          ? `was killed by ${String(e.signal)}`
          : `could not be run${typeof e.code === 'string' ? ` (${e.code})` : ''}`;
    throw new CredentialHelperError(image, program, `${how}${said ? `: ${said}` : ''}`);
  }
  let answer: HelperAnswer;
  try {
    answer = JSON.parse(stdout) as HelperAnswer;
  } catch {
    answer = {};
  }
  const { Username: username, Secret: secret } = answer ?? {};
  if (typeof username !== 'string' || typeof secret !== 'string') {
    throw new CredentialHelperError(image, program, 'answered something other than {"Username", "Secret"} JSON');
  }
  if (username === '' && secret === '') return undefined;
  return username === TOKEN_USERNAME
    ? { identityToken: secret, serverAddress: serverUrl }
    : { username, password: secret, serverAddress: serverUrl };
}

/** The first non-empty line, cut short: enough to say why, never a whole dump. JSON is left out. */
function firstLine(text: string): string {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  return line.startsWith('{') ? '' : line.slice(0, 200);
}

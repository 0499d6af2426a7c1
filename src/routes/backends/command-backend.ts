import { spawn } from 'node:child_process';
import { RouteDeliveryError } from '../../errors.js';
import type { RouteBackend } from '../route-backend.js';
import type { RouteRecord } from '../route-record.js';
import { recordJson } from './record-json.js';

export interface CommandOptions {
  readonly argv: readonly string[];
  readonly timeoutMs: number;
}

const STDERR_KEPT = 2_000;

/**
 * Runs the command once per record, with the record as one JSON line on standard input (no shell:
 * `argv` is run as given). Exit status 0 delivers it; any other outcome (an exit status, a
 * signal, the timeout, a command that cannot be run) is retried by the route, with the end of its
 * standard error in the route's last error.
 */
export function commandBackend(route: string, opts: CommandOptions): RouteBackend {
  const running = new Set<Promise<void>>();
  const run = (record: RouteRecord, signal: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      const [file, ...args] = opts.argv;
      const child = spawn(file!, args, { stdio: ['pipe', 'ignore', 'pipe'], signal, timeout: opts.timeoutMs, killSignal: 'SIGKILL' });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-STDERR_KEPT);
      });
      const fail = (why: string, cause?: unknown): void =>
        reject(new RouteDeliveryError(route, `command ${file} ${why}${stderr.trim() ? `: ${stderr.trim()}` : ''}`, { cause, retryable: true }));
      let spawnError: Error | undefined;
      child.on('error', (error) => {
        spawnError = error;
      });
      // A command that does not read its input must not fail the write with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(recordJson(record) + '\n');
      child.on('close', (code, sig) => {
        if (spawnError && !signal.aborted) fail(`could not be run (${spawnError.message})`, spawnError);
        else if (code === 0) resolve();
        else if (sig) fail(sig === 'SIGKILL' && !signal.aborted ? `gave no answer within ${opts.timeoutMs} ms` : `was killed by ${sig}`);
        else fail(`exited with status ${String(code)}`);
      });
    });
  return {
    describe: `command ${opts.argv[0]!}`,
    deliver(record, signal) {
      const p = run(record, signal);
      const settled = p.then(
        () => undefined,
        () => undefined,
      );
      running.add(settled);
      void settled.then(() => running.delete(settled));
      return p;
    },
    async close() {
      await Promise.all(running);
    },
  };
}

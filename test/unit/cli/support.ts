import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { AgentConfig } from '../../../src/config/config.js';
import { runCli } from '../../../src/cli/program.js';
import { openSqliteSaver } from '../../../src/state/sqlite-saver.js';
import { InProcessAgent } from '../../support/in-process-agent.js';

/** A string sink standing in for stdout/stderr; `isTTY` makes it a fake terminal. */
export class Sink {
  text = '';
  constructor(
    readonly isTTY = false,
    readonly columns = 100,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly tty?: boolean;
  readonly now?: () => number;
  readonly signal?: AbortSignal;
  readonly stdin?: string;
  readonly env?: Record<string, string>;
}

/** Runs the CLI in-process with an empty environment, so nothing of the developer's leaks in. */
export async function cli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const stdout = new Sink(options.tty ?? false);
  const stderr = new Sink(options.tty ?? false);
  const code = await runCli(args, {
    stdout,
    stderr,
    env: options.env ?? {},
    ...(options.now ? { now: options.now } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.stdin === undefined ? {} : { stdin: Readable.from([Buffer.from(options.stdin)]) }),
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** `--data-dir` of a running in-process agent, which is how an operator points the CLI at it. */
export function at(a: InProcessAgent): string[] {
  return ['--data-dir', a.config.dataDir];
}

export function writeFile(a: InProcessAgent, name: string, content: unknown): string {
  const path = join(a.dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/**
 * An agent on a real SQLite file at `<dataDir>/state.db`, where `agent state dump --data-dir`
 * looks. Starting another on the same dataDir is a restart.
 */
export function sqliteAgent(dataDir: string, overrides: Partial<AgentConfig> = {}): Promise<InProcessAgent> {
  return new InProcessAgent({ saver: openSqliteSaver(join(dataDir, 'state.db')) }).start({ dataDir }, overrides);
}

/** Failing actions give up at once, so a failure reaches STOPPED in milliseconds. */
export const NO_RETRIES: Partial<AgentConfig> = { actionMaxRetries: 0 };

export const ANSI = /\x1b\[/;

import { homedir } from 'node:os';
import { resolveConfig, type AgentConfig, type ConfigFlags } from '../config/config.js';

/** Where the CLI writes: process streams in production, string sinks in tests. */
export interface OutStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CliIo {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  /** Read by `task apply -f -`; defaults to process.stdin. */
  readonly stdin?: AsyncIterable<Buffer | string>;
  /** Defaults to process.env; tests pass their own so they never see the developer's settings. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Epoch milliseconds; ages and stuck times are measured against it. */
  readonly now?: () => number;
  /** Aborted on Ctrl-C: commands that wait or follow stop cleanly instead of dying mid-write. */
  readonly signal?: AbortSignal;
}

/** What every command gets: the io with its defaults filled in, and a few helpers on it. */
export interface CliContext {
  readonly io: CliIo;
  readonly now: () => number;
  readonly signal: AbortSignal;
  /** One line (or block) to standard output. */
  out(text: string): void;
  /** A value as indented JSON, for `--json`. */
  json(value: unknown): void;
  err(text: string): void;
  config(flags: ConfigFlags): AgentConfig;
}

export function cliContext(io: CliIo): CliContext {
  const env = io.env ?? process.env;
  return {
    io,
    now: io.now ?? Date.now,
    signal: io.signal ?? new AbortController().signal,
    out: (text) => void io.stdout.write(`${text}\n`),
    json: (value) => void io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    err: (text) => void io.stderr.write(`${text}\n`),
    config: (flags) => resolveConfig(flags, { env, uid: process.getuid?.() ?? -1, home: homedir() }),
  };
}

import { InvalidArgumentError, type Command } from 'commander';
import { duration } from '../../config/values.js';
import { ConfigError } from '../../errors.js';
import { Api } from '../client/api.js';
import type { CliContext } from '../io.js';

export interface ClientFlags {
  readonly socket?: string;
  readonly dataDir?: string;
  readonly json?: boolean;
}

/** `--socket`, `--data-dir` and `--json`, which every command that talks to the agent takes. */
export function withClientFlags(cmd: Command): Command {
  return cmd
    .option('--socket <path>', 'control socket of the agent (env BERTH_SOCKET; default <data-dir>/agent.sock)')
    .option('--data-dir <dir>', 'agent data directory (env BERTH_DATA_DIR)')
    .option('--json', 'print JSON for scripts');
}

export function api(ctx: CliContext, flags: ClientFlags): Api {
  return new Api(ctx.config({ socket: flags.socket, dataDir: flags.dataDir }).socketPath);
}

export function examples(cmd: Command, ...lines: string[]): Command {
  return cmd.addHelpText('after', `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  ${l}`).join('\n')}`);
}

/** Commander option parser for `30s`, `5m`, `1h`: a bad value is a usage error (exit 2). */
export function durationOption(what: string) {
  return (raw: string): number => {
    try {
      return duration(what, raw, 0);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof ConfigError ? error.message : String(error));
    }
  };
}

export function wholeNumberOption(raw: string): number {
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new InvalidArgumentError(`must be a whole number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

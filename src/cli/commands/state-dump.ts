import { Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { CONFIG_KEY } from '../../agent.js';
import { DEFAULTS } from '../../config/config.js';
import { errorMessage } from '../../errors.js';
import { openStateReader, type StateReader } from '../../state/sqlite-saver.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { CliContext } from '../io.js';
import { dumpDocument, formatDump } from '../render/dump.js';
import { durationOption, examples } from './shared.js';

interface DumpFlags {
  readonly dataDir?: string;
  readonly json?: boolean;
  readonly yaml?: boolean;
  readonly stuckAfter: number;
}

/** Returns the `state` command, for its other subcommands (export, restore) to register on. */
export function registerStateCommand(program: Command, ctx: CliContext): Command {
  const state = examples(
    program.command('state').description('inspect the agent state database (dump, export: read-only), or restore one from an export'),
    'agent state dump',
  );
  examples(
    state
      .command('dump')
      .description(
        'summarize every task and container in the state database, and any rows the agent cannot load or has quarantined; ' +
          'works whether or not the agent runs, and never writes. On a damaged file it exits 5 and says which parts it could read',
      )
      .option('--data-dir <dir>', 'state directory (env BERTH_DATA_DIR)')
      .option('--json', 'print the summary as JSON for scripts')
      .option('--yaml', 'print the same document as YAML')
      .addOption(
        new Option('--stuck-after <duration>', 'flag a task that has not moved toward its desired status for this long, e.g. 30s, 10m')
          .argParser(durationOption('--stuck-after'))
          .default(DEFAULTS.stuckAfterMs, `${DEFAULTS.stuckAfterMs / 60_000}m`),
      ),
    'agent state dump',
    'agent state dump --stuck-after 1m',
    "agent state dump --json | jq '.tasks[] | select(.stuck) | .arn'",
    'agent state dump --yaml --data-dir /tmp/berth',
  ).action((flags: DumpFlags) => {
    if (flags.json && flags.yaml) throw new CliError('give --json or --yaml, not both', EXIT.usage);
    const databasePath = ctx.config({ dataDir: flags.dataDir }).databasePath;
    const reader = readState(databasePath);
    try {
      const input = { databasePath, ...reader, config: savedConfig(reader.meta) };
      const now = ctx.now();
      if (flags.json) return ctx.json(dumpDocument(input, now, flags.stuckAfter));
      if (flags.yaml) return void ctx.io.stdout.write(stringify(dumpDocument(input, now, flags.stuckAfter)));
      ctx.out(formatDump(input, now, flags.stuckAfter));
    } finally {
      reader.close();
    }
  });
  return state;
}

export function readState(databasePath: string): StateReader {
  try {
    return openStateReader(databasePath);
  } catch (error) {
    throw new CliError(`cannot read the state database: ${errorMessage(error)}`, EXIT.state);
  }
}

/** The configuration the agent last started with, as it saved it. */
function savedConfig(meta: Readonly<Record<string, string>>): Record<string, unknown> | undefined {
  const raw = meta[CONFIG_KEY];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return { unreadable: raw };
  }
}

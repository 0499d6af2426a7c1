import { Command, CommanderError } from 'commander';
import { AGENT_VERSION } from '../agent.js';
import { ConfigError, errorMessage } from '../errors.js';
import { registerEventsCommand } from './commands/events.js';
import { registerFleetCommand } from './commands/fleet.js';
import { registerLogsCommand } from './commands/logs.js';
import { registerRoutesCommand } from './commands/routes.js';
import { registerSourcesCommand } from './commands/sources.js';
import { registerRunCommand } from './commands/run.js';
import { registerServicesCommand } from './commands/services.js';
import { examples } from './commands/shared.js';
import { registerStateCommand } from './commands/state-dump.js';
import { registerExportCommand } from './commands/state-export.js';
import { registerRestoreCommand } from './commands/state-restore.js';
import { registerTaskCommands } from './commands/task.js';
import { CliError, EXIT } from './exit-codes.js';
import { cliContext, type CliContext, type CliIo } from './io.js';

export type { CliIo } from './io.js';

/**
 * Runs the CLI on `argv` (the user's arguments, without node and the script) and resolves with
 * the exit code. Everything goes through `io`, so tests drive it in-process; it never calls
 * process.exit.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const ctx = cliContext(io);
  try {
    await buildProgram(ctx).parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    return exitCodeFor(error, ctx);
  }
}

export function buildProgram(ctx: CliContext): Command {
  const { io } = ctx;
  // Configured before any subcommand is added: subcommands inherit these settings when created.
  const program = new Command()
    .name('agent')
    .description('berth: a per-host container agent')
    .version(AGENT_VERSION)
    .exitOverride()
    .showHelpAfterError('(add --help for usage and examples)')
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      getOutHelpWidth: () => io.stdout.columns || 80,
      getErrHelpWidth: () => io.stderr.columns || 80,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });
  examples(program, 'agent run --data-dir /tmp/berth', 'agent task apply -f task.json --wait', 'agent state dump');
  program.addHelpText(
    'after',
    '\nExit codes: 0 ok, 1 failure, 2 usage or invalid file, 3 agent unreachable, 4 agent refused,\n' +
      '5 state unreadable, 6 task stopped instead of running, 7 timed out, 8 event cursor gone, 130 interrupted.',
  );
  registerRunCommand(program, ctx);
  registerTaskCommands(program, ctx);
  registerEventsCommand(program, ctx);
  registerLogsCommand(program, ctx);
  registerRoutesCommand(program, ctx);
  registerSourcesCommand(program, ctx);
  registerServicesCommand(program, ctx);
  const state = registerStateCommand(program, ctx);
  registerExportCommand(state, ctx);
  registerRestoreCommand(state, ctx);
  registerFleetCommand(program, ctx);
  return program;
}

function exitCodeFor(error: unknown, ctx: CliContext): number {
  if (error instanceof CommanderError) {
    // Help and version are not failures; every other commander error is a usage mistake.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof CliError) {
    ctx.err(`agent: ${error.message}`);
    return error.exitCode;
  }
  if (error instanceof ConfigError) {
    ctx.err(`agent: ${error.message}`);
    return EXIT.usage;
  }
  ctx.err(`agent: ${errorMessage(error)}`);
  return EXIT.failure;
}

#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { AGENT_VERSION } from '../agent.js';
import { ConfigError, errorMessage } from '../errors.js';
import { CliError, EXIT } from './exit-codes.js';
import { registerRunCommand } from './run-command.js';
import { registerStateCommand } from './state-command.js';
import { registerTaskCommands } from './task-commands.js';

const program = new Command()
  .name('agent')
  .description('berth: a per-host container agent')
  .version(AGENT_VERSION)
  .exitOverride()
  .showHelpAfterError();
registerRunCommand(program);
registerStateCommand(program);
registerTaskCommands(program);
for (const cmd of program.commands) {
  cmd.exitOverride();
  for (const sub of cmd.commands) sub.exitOverride();
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = exitCodeFor(error);
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version are not failures; every other commander error is a usage mistake.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof CliError) {
    process.stderr.write(`agent: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`agent: ${error.message}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`agent: ${errorMessage(error)}\n`);
  return EXIT.failure;
}

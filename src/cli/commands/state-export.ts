import { chmodSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { AGENT_ID_KEY } from '../../agent.js';
import { exportDocument } from '../../api/export/state-document.js';
import { errorMessage } from '../../errors.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { CliContext } from '../io.js';
import { examples } from './shared.js';
import { readState } from './state-dump.js';

interface ExportFlags {
  readonly dataDir?: string;
  readonly json?: boolean;
  readonly yaml?: boolean;
  readonly output?: string;
}

/**
 * Reads the data directory as `state dump` does, never the socket: it works with the agent
 * stopped, which is what moving its work to another directory or host needs.
 */
export function registerExportCommand(state: Command, ctx: CliContext): void {
  examples(
    state
      .command('export')
      .description(
        "write the agent's tasks (definitions, desired status, sources) and its agent ID as one document, " +
          'which `agent state restore` and `agent task apply -f` take back; reads the state database, so it works with the agent stopped',
      )
      .option('--data-dir <dir>', 'state directory (env BERTH_DATA_DIR)')
      .option('--yaml', 'write YAML (the default)')
      .option('--json', 'write JSON')
      .option('-o, --output <file>', 'write to this file (mode 0600: definitions carry environment values) instead of standard output'),
    'agent state export --data-dir /var/lib/berth -o berth-state.yaml',
    'agent state export --json | jq \'.tasks[].definition.arn\'',
  ).action((flags: ExportFlags) => {
    if (flags.json && flags.yaml) throw new CliError('give --json or --yaml, not both', EXIT.usage);
    const config = ctx.config({ dataDir: flags.dataDir });
    const reader = readState(config.databasePath);
    let text: string;
    try {
      const agentId = reader.meta[AGENT_ID_KEY];
      if (agentId === undefined) {
        throw new CliError(`${config.dataDir} has no agent ID: no agent has started on it, so there is nothing to export`, EXIT.state);
      }
      for (const p of [...reader.problems, ...reader.quarantined]) {
        ctx.err(`agent: task ${p.arn} cannot be read and is not in the export (see \`agent state dump\`)`);
      }
      const doc = exportDocument(agentId, reader.tasks, ctx.now());
      text = flags.json ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc);
      if (flags.output === undefined) return void ctx.io.stdout.write(text);
    } finally {
      reader.close();
    }
    try {
      writeFileSync(flags.output, text, { mode: 0o600 });
      // An existing file keeps its mode on write.
      chmodSync(flags.output, 0o600);
    } catch (error) {
      throw new CliError(`cannot write ${flags.output}: ${errorMessage(error)}`, EXIT.failure);
    }
  });
}

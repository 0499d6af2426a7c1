import type { Command } from 'commander';
import type { TaskState } from '../api/task.js';
import { taskView } from '../api/view.js';
import { CONFIG_KEY } from '../agent.js';
import { resolveConfig } from '../config/config.js';
import { errorMessage } from '../errors.js';
import { openStateReader } from '../state/sqlite-saver.js';
import { CliError, EXIT } from './exit-codes.js';
import { age, ports, shortId, table } from './format.js';

export function registerStateCommand(program: Command): void {
  const state = program.command('state').description('inspect the agent state database (read-only)');
  state
    .command('dump')
    .description('print every task and container in the state database; works whether or not the agent runs, and never writes')
    .option('--data-dir <dir>', 'state directory (env BERTH_DATA_DIR)')
    .option('--json', 'print JSON for scripts')
    .addHelpText('after', '\nExamples:\n  agent state dump\n  agent state dump --json | jq \'.tasks[].knownStatus\'')
    .action((flags: { dataDir?: string; json?: boolean }) => {
      const config = resolveConfig({ dataDir: flags.dataDir });
      let reader;
      try {
        reader = openStateReader(config.databasePath);
      } catch (error) {
        throw new CliError(`cannot read state: ${errorMessage(error)}`, EXIT.state);
      }
      try {
        const agentConfig = savedConfig(reader.meta);
        if (flags.json) {
          const json = {
            database: config.databasePath,
            schemaVersion: reader.schemaVersion,
            agentId: reader.meta['agent-id'] ?? null,
            lastSeq: reader.lastSeq,
            eventCount: reader.eventCount,
            config: agentConfig ?? null,
            tasks: reader.tasks.map(taskView),
          };
          process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${formatDump(config.databasePath, agentConfig, reader, Date.now())}\n`);
      } finally {
        reader.close();
      }
    });
}

interface DumpInput {
  readonly schemaVersion: number;
  readonly meta: Readonly<Record<string, string>>;
  readonly tasks: readonly TaskState[];
  readonly lastSeq: number;
  readonly eventCount: number;
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

export function formatDump(databasePath: string, config: Record<string, unknown> | undefined, dump: DumpInput, now: number): string {
  const out: string[] = [];
  out.push(`database     ${databasePath} (schema v${dump.schemaVersion})`);
  out.push(`agent id     ${dump.meta['agent-id'] ?? '(not yet assigned)'}`);
  out.push(`events       ${dump.eventCount} kept, last seq ${dump.lastSeq}`);
  out.push(`tasks        ${dump.tasks.length}`);
  out.push('');
  out.push(config ? 'configuration (as the agent last started)' : 'configuration: the agent has not started on this database yet');
  for (const [key, value] of Object.entries(config ?? {})) {
    out.push(`  ${key.padEnd(22)} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  }
  for (const t of dump.tasks) {
    out.push('');
    out.push(`task ${t.arn}  ${t.family}:${t.version}  known ${t.knownStatus}  desired ${t.desiredStatus}  age ${age(t.createdAt, now)}`);
    out.push(
      table(
        ['container', 'docker id', 'known', 'desired', 'exit', 'ports', 'reason'],
        t.containers.map((c) => [
          c.definition.name,
          shortId(c.dockerId),
          c.knownStatus,
          c.desiredStatus,
          c.exitCode === undefined ? '-' : String(c.exitCode),
          ports(c.portBindings),
          c.reason ? `${c.reason.code}: ${c.reason.message}` : '-',
        ]),
        '  ',
      ),
    );
  }
  return out.join('\n');
}

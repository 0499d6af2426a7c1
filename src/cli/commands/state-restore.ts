import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { AGENT_ID_KEY } from '../../agent.js';
import { isStateDocument, type RestorableState } from '../../api/export/state-document.js';
import type { AgentConfig } from '../../config/config.js';
import { answers } from '../../control/socket-path.js';
import { newTaskState } from '../../engine/task-state.js';
import { errorMessage } from '../../errors.js';
import { openSqliteSaver } from '../../state/sqlite-saver.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { CliContext } from '../io.js';
import { LOCAL_CHECK, readDocument, readStateDocument } from '../task-file.js';
import { examples } from './shared.js';
import { readState } from './state-dump.js';

interface RestoreFlags {
  readonly dataDir?: string;
  readonly force?: boolean;
}

/**
 * Recreates an exported agent's tasks in a data directory, under the exported agent ID: container
 * names and labels carry that ID, so the agent started there next adopts the containers Docker
 * still holds instead of making new ones. Writes only through the Saver, with no agent running.
 */
export function registerRestoreCommand(state: Command, ctx: CliContext): void {
  examples(
    state
      .command('restore')
      .description(
        'recreate the tasks of an export document (`agent state export`) and its agent ID in an empty data directory; ' +
          'the agent started there adopts the containers Docker still holds. Refuses a directory that holds state unless --force, ' +
          'and always refuses one whose agent is running',
      )
      .argument('<file>', 'the export document, JSON or YAML; - reads standard input')
      .option('--data-dir <dir>', 'state directory to restore into (env BERTH_DATA_DIR)')
      .option('--force', "replace the directory's tasks and agent ID if it has them"),
    'agent state restore berth-state.yaml --data-dir /var/lib/berth',
    'agent state export --data-dir /old | agent state restore - --data-dir /new',
  ).action(async (file: string, flags: RestoreFlags) => {
    const config = ctx.config({ dataDir: flags.dataDir });
    const { name, doc } = await readDocument(file, ctx.io.stdin ?? process.stdin);
    if (!isStateDocument(doc)) throw new CliError(`${name} is not an export document (it has no kind: "berth/agent-state"); \`agent task apply -f\` takes one task`, EXIT.usage);
    // Privileged containers were allowed by the agent that accepted them.
    const restored = readStateDocument(name, doc, LOCAL_CHECK);
    if (await answers(config.socketPath)) {
      throw new CliError(`an agent is running on ${config.dataDir} (it answers on ${config.socketPath}); stop it before restoring into its directory`, EXIT.usage);
    }
    const held = heldState(config);
    if (held !== undefined && !flags.force) {
      throw new CliError(`${config.dataDir} already holds state (${held}); give --force to replace it, or restore into an empty directory`, EXIT.usage);
    }
    const replaced = await write(config, restored, ctx.now());
    const what = `${restored.tasks.length} task(s) under agent ID ${restored.agentId}`;
    ctx.out(`restored ${what} into ${config.dataDir}${replaced > 0 ? `, replacing ${replaced} task(s)` : ''}; \`agent run --data-dir ${config.dataDir}\` adopts their containers`);
  });
}

/** What the directory's database holds, described for the refusal; undefined when it holds nothing. */
function heldState(config: AgentConfig): string | undefined {
  if (!existsSync(config.databasePath)) return undefined;
  const reader = readState(config.databasePath);
  try {
    const agentId = reader.meta[AGENT_ID_KEY];
    const tasks = reader.tasks.length + reader.problems.length + reader.quarantined.length;
    if (agentId === undefined && tasks === 0) return undefined;
    return [agentId === undefined ? 'no agent ID' : `agent ID ${agentId}`, `${tasks} task(s) in ${config.databasePath}`].join(', ');
  } finally {
    reader.close();
  }
}

/**
 * The tasks first, then the ID: a directory left with tasks but no ID is refused by the next
 * restore without --force, while an ID without tasks would let an agent take the containers for
 * orphans and remove them.
 */
async function write(config: AgentConfig, restored: RestorableState, now: number): Promise<number> {
  const saver = openSaver(config.databasePath);
  try {
    const existing = (await saver.loadTasks()).map((t) => t.arn);
    const staleSources = (await saver.loadSources()).tasks.map(({ source, arn }) => ({ source, arn }));
    await saver.commit({
      remove: existing,
      put: restored.tasks.map((t) => ({ ...newTaskState(t.definition, now, restored.agentId), source: t.source })),
    });
    // Each task back in its source's saved set, so the merger takes it as that source's and does not stop it.
    await saver.saveSources({
      remove: staleSources,
      put: restored.tasks.map((t, i) => ({ source: t.source, arn: t.definition.arn, origin: RESTORED_ORIGIN, claim: i + 1, definition: t.definition })),
    });
    await saver.setMeta(AGENT_ID_KEY, restored.agentId);
    return existing.length;
  } catch (error) {
    throw new CliError(`restoring into ${config.databasePath} failed: ${errorMessage(error)}`, EXIT.state);
  } finally {
    await saver.close();
  }
}

/** The origin a restored task's saved row names until its source delivers it again (a file name, an etcd key). */
const RESTORED_ORIGIN = 'agent state restore';

function openSaver(databasePath: string): ReturnType<typeof openSqliteSaver> {
  try {
    return openSqliteSaver(databasePath);
  } catch (error) {
    throw new CliError(`cannot open the state database: ${errorMessage(error)}`, EXIT.state);
  }
}

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseTaskInput } from '../api/schema.js';
import type { TaskView } from '../api/view.js';
import { resolveConfig } from '../config/config.js';
import { ControlClient, type ClientResponse } from '../control/client.js';
import { ValidationError } from '../errors.js';
import { CliError, EXIT } from './exit-codes.js';
import { age, shortId, table } from './format.js';

interface ClientFlags {
  socket?: string;
  dataDir?: string;
  json?: boolean;
}

function client(flags: ClientFlags): ControlClient {
  return new ControlClient(resolveConfig({ socket: flags.socket, dataDir: flags.dataDir }).socketPath);
}

/** Sends a request; an unreachable agent and an error answer become CLI errors with their exit codes. */
async function call<T>(c: ControlClient, method: 'GET' | 'POST', path: string, body?: unknown): Promise<ClientResponse<T>> {
  let res: ClientResponse<T>;
  try {
    res = await c.send<T>(method, path, body);
  } catch (error) {
    throw new CliError(`cannot reach the agent on ${c.socketPath}: ${(error as Error).message} (is \`agent run\` running?)`, EXIT.unreachable);
  }
  if (res.status >= 400) {
    const err = (res.body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new CliError(`agent refused (${res.status} ${err?.code ?? ''}): ${err?.message ?? JSON.stringify(res.body)}`, EXIT.rejected);
  }
  return res;
}

function withClientFlags(cmd: Command): Command {
  return cmd
    .option('--socket <path>', 'control socket of the agent (default: <data-dir>/agent.sock)')
    .option('--data-dir <dir>', 'agent data directory (env BERTH_DATA_DIR)')
    .option('--json', 'print JSON for scripts');
}

export function registerTaskCommands(program: Command): void {
  const task = program.command('task').description('apply, list and stop tasks on a running agent');

  withClientFlags(
    task
      .command('apply')
      .description('create a task from a JSON file, or raise the desired status of a known one')
      .requiredOption('-f, --file <file>', 'task definition (JSON); - reads standard input')
      .addHelpText('after', '\nExample:\n  agent task apply -f examples/web-task.json'),
  ).action(async (flags: ClientFlags & { file: string }) => {
    const body = readTaskFile(flags.file);
    const res = await call<TaskView>(client(flags), 'POST', '/v1/tasks', body);
    if (flags.json) return print(res.body);
    const verb = res.status === 201 ? 'created' : 'updated';
    print(`task ${res.body.arn} ${verb}: desired ${res.body.desiredStatus}, known ${res.body.knownStatus}`);
  });

  withClientFlags(task.command('ls').description('list the tasks the agent holds').addHelpText('after', '\nExample:\n  agent task ls --json')).action(
    async (flags: ClientFlags) => {
      const res = await call<{ tasks: TaskView[] }>(client(flags), 'GET', '/v1/tasks');
      if (flags.json) return print(res.body.tasks);
      const now = Date.now();
      print(
        table(
          ['arn', 'family:version', 'desired', 'known', 'containers', 'age'],
          res.body.tasks.map((t) => [
            t.arn,
            `${t.family}:${t.version}`,
            t.desiredStatus,
            t.knownStatus,
            t.containers.map((c) => `${c.name}(${shortId(c.dockerId)} ${c.knownStatus})`).join(' '),
            age(Date.parse(t.createdAt), now),
          ]),
        ),
      );
    },
  );

  withClientFlags(
    task.command('stop').description('ask the agent to stop a task').argument('<arn>', 'task ARN').addHelpText('after', '\nExample:\n  agent task stop arn:berth:task/web-1'),
  ).action(async (arn: string, flags: ClientFlags) => {
    const res = await call<TaskView>(client(flags), 'POST', '/v1/tasks', { arn, desiredStatus: 'STOPPED' });
    if (flags.json) return print(res.body);
    print(`task ${res.body.arn}: desired ${res.body.desiredStatus}, known ${res.body.knownStatus}`);
  });
}

/** Reads and validates a task file with the same schema the agent uses, so mistakes show before sending. */
function readTaskFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.usage);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`, EXIT.usage);
  }
  try {
    parseTaskInput(body);
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new CliError(`${file} is not a valid task:\n${error.issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`, EXIT.usage);
    }
    throw error;
  }
  return body;
}

function print(value: unknown): void {
  process.stdout.write(typeof value === 'string' ? `${value}\n` : `${JSON.stringify(value, null, 2)}\n`);
}

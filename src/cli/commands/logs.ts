import { InvalidArgumentError, type Command } from 'commander';
import { duration } from '../../config/values.js';
import type { LogLine } from '../../docker/log-lines.js';
import { openNdjson } from '../client/ndjson.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { CliContext } from '../io.js';
import { api, examples, withClientFlags, type ClientFlags } from './shared.js';

interface LogsFlags extends ClientFlags {
  readonly follow?: boolean;
  readonly tail?: string;
  readonly since?: string;
  readonly timestamps?: boolean;
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;

export function registerLogsCommand(program: Command, ctx: CliContext): void {
  examples(
    withClientFlags(
      program
        .command('logs')
        .description("print a container's output, read from Docker (stderr lines to stderr); --json prints {stream, line, time?} per line")
        .argument('<arn>', 'task ARN')
        .argument('[container]', 'container name; optional when the task has one container')
        .option('-f, --follow', 'keep printing new output until the container stops (or Ctrl-C)')
        .option('--tail <lines>', 'only the last N lines, or all', tailOption)
        .option('--since <when>', 'only output since a duration ago (10m, 1h) or an RFC3339 time', sinceOption)
        .option('-t, --timestamps', "prefix each line with Docker's time for it"),
    ),
    'agent logs arn:berth:task/web-1',
    'agent logs arn:berth:task/web-1 app --follow --tail 20',
    'agent logs arn:berth:task/web-1 --since 10m --timestamps',
  ).action(async (arn: string, container: string | undefined, flags: LogsFlags) => {
    const client = api(ctx, flags);
    const name = container ?? (await onlyContainer(ctx, arn, flags));
    const query = new URLSearchParams();
    if (flags.follow) query.set('follow', '1');
    if (flags.tail !== undefined) query.set('tail', flags.tail);
    if (flags.since !== undefined) query.set('since', sinceTime(flags.since, ctx.now()));
    if (flags.timestamps) query.set('timestamps', '1');
    const qs = query.size > 0 ? `?${query.toString()}` : '';
    const path = `/v1/tasks/${encodeURIComponent(arn)}/containers/${encodeURIComponent(name)}/logs${qs}`;
    const stream = await openNdjson(client.socketPath, path, (value) => {
      const l = value as LogLine;
      const text = flags.json ? JSON.stringify(l) : `${l.time !== undefined ? `${l.time} ` : ''}${l.line}`;
      // With --json everything is one stream of records for a script.
      (l.stream === 'stderr' && !flags.json ? ctx.io.stderr : ctx.io.stdout).write(`${text}\n`);
    });
    const stop = (): void => stream.close();
    ctx.signal.addEventListener('abort', stop, { once: true });
    if (ctx.signal.aborted) stop();
    const { error } = await stream.ended;
    ctx.signal.removeEventListener('abort', stop);
    if (error) throw new CliError(`the output of ${name} ended early: ${error.message}`, EXIT.failure);
  });
}

/** The task's one container; a task with several must be told which. */
async function onlyContainer(ctx: CliContext, arn: string, flags: ClientFlags): Promise<string> {
  const task = await api(ctx, flags).task(arn);
  const names = task.containers.map((c) => c.name);
  if (names.length === 1) return names[0]!;
  throw new CliError(`task ${arn} has ${names.length} containers; name one: ${names.join(', ')}`, EXIT.usage);
}

function tailOption(raw: string): string {
  if (raw === 'all' || /^\d+$/.test(raw)) return raw;
  throw new InvalidArgumentError(`must be a whole number of lines or "all", got ${JSON.stringify(raw)}`);
}

function sinceOption(raw: string): string {
  if (RFC3339.test(raw) && !Number.isNaN(Date.parse(raw))) return raw;
  try {
    duration('--since', raw, 0);
    return raw;
  } catch {
    throw new InvalidArgumentError(`must be a duration (10m, 1h) or an RFC3339 time (2026-12-02T09:10:00Z), got ${JSON.stringify(raw)}`);
  }
}

/** A duration counts back from now; an RFC3339 time goes as it is. */
export function sinceTime(raw: string, now: number): string {
  return RFC3339.test(raw) ? raw : new Date(now - duration('--since', raw, 0)).toISOString();
}

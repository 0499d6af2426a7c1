import { Option, type Command } from 'commander';
import { DESIRED_STATUSES, type DesiredStatus } from '../../api/status.js';
import type { TaskView } from '../../api/view.js';
import type { FieldIssue } from '../../errors.js';
import { ApiRefusal, type Api } from '../client/api.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { CliContext } from '../io.js';
import { changeLine } from '../render/events.js';
import { durationText } from '../render/format.js';
import { progressDisplay, type ProgressDisplay } from '../render/progress.js';
import { containerTable } from '../render/task.js';
import { warningLines } from '../render/warnings.js';
import { readApplyFile } from '../task-file.js';
import { TaskWatch, type WaitOutcome } from '../wait/task-watch.js';
import { api, durationOption, examples, withClientFlags, type ClientFlags } from './shared.js';

interface ApplyFlags extends ClientFlags {
  readonly file: string;
  readonly arn?: string;
  readonly desiredStatus?: DesiredStatus;
  readonly wait?: boolean;
  readonly timeout: number;
}

/** POST /v1/tasks answers with the task and what of its definition had no effect. */
interface Applied extends TaskView {
  readonly warnings?: readonly FieldIssue[];
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;

export function registerApplyCommand(task: Command, ctx: CliContext): void {
  examples(
    withClientFlags(
      task
        .command('apply')
        .description('create a task from a JSON or YAML file, or raise the desired status of a known one')
        .requiredOption('-f, --file <file>', 'task definition, JSON or YAML (.yaml/.yml), in the ECS form or the short form, or an export document (agent state export); - reads standard input')
        .option('--arn <arn>', "the task's arn (default: the file's arn, else arn:berth:task/<family>:<revision>)")
        .addOption(new Option('--desired-status <status>', 'set the desired status (default: the file\'s, else RUNNING)').choices(DESIRED_STATUSES))
        .option('--wait', 'follow the task until it is RUNNING (exit 0) or STOPPED (exit 6), showing progress')
        .addOption(
          new Option('--timeout <duration>', 'with --wait: give up after this long (exit 7), e.g. 90s, 5m')
            .argParser(durationOption('--timeout'))
            .default(DEFAULT_TIMEOUT_MS, '5m'),
        ),
    ),
    'agent task apply -f examples/web-task.json',
    'agent task apply -f taskdef.json --arn arn:berth:task/web-7   # an ECS task definition as written',
    'agent task apply -f taskdef.json --desired-status STOPPED',
    'agent task apply -f web.yaml --wait --timeout 2m',
    'cat task.json | agent task apply -f - --wait --json',
    'agent task apply -f berth-state.yaml   # every task of an export (agent state export)',
  ).action(async (flags: ApplyFlags) => {
    const read = await readApplyFile(flags.file, ctx.io.stdin ?? process.stdin, {
      ...(flags.arn === undefined ? {} : { arn: flags.arn }),
      ...(flags.desiredStatus === undefined ? {} : { desiredStatus: flags.desiredStatus }),
    });
    if (read.kind === 'state') return applyAll(ctx, api(ctx, flags), read.tasks, flags);
    const file = read.file;
    if (file.derivedArn) ctx.err(`agent: ${flags.file} has no arn; using ${file.derivedArn} (from its family and revision; --arn sets one)`);
    const client = api(ctx, flags);
    if (!flags.wait) {
      const res = await client.send<Applied>('POST', '/v1/tasks', file.body);
      for (const line of warningLines(res.body.warnings)) ctx.err(`agent: ${line}`);
      if (flags.json) return ctx.json(res.body);
      return ctx.out(applied(res.body, res.status));
    }
    const arn = file.input.kind === 'definition' ? file.input.task.arn : file.input.arn;
    const target = file.input.kind === 'definition' ? file.input.task.desiredStatus : file.input.desiredStatus;
    await applyAndWait(ctx, client, { arn, target, body: file.body, flags });
  });
}

/**
 * Every task of an export document, one request each, in the document's order. A refused task does
 * not stop the others: each is reported, and the exit code says some were refused.
 */
async function applyAll(ctx: CliContext, client: Api, tasks: ReadonlyArray<{ arn: string; body: unknown }>, flags: ApplyFlags): Promise<void> {
  if (flags.wait) throw new CliError(`--wait follows one task; ${flags.file} is an export document of ${tasks.length}`, EXIT.usage);
  const results: Array<Applied | { arn: string; error: string }> = [];
  let refused = 0;
  for (const t of tasks) {
    try {
      const res = await client.send<Applied>('POST', '/v1/tasks', t.body);
      for (const line of warningLines(res.body.warnings)) ctx.err(`agent: ${t.arn}: ${line}`);
      results.push(res.body);
      if (!flags.json) ctx.out(applied(res.body, res.status));
    } catch (error) {
      if (!(error instanceof ApiRefusal)) throw error;
      refused += 1;
      results.push({ arn: t.arn, error: error.message });
      ctx.err(`agent: task ${t.arn}: ${error.message}`);
    }
  }
  if (flags.json) ctx.json(results);
  if (refused > 0) throw new CliError(`${refused} of ${tasks.length} task(s) of ${flags.file} were refused`, EXIT.rejected);
}

function applied(t: TaskView, status: number): string {
  const waiting = t.reason ? `; ${t.reason}: ${t.reasonMessage ?? ''}` : '';
  return `task ${t.arn} ${status === 201 ? 'created' : 'updated'}: desired ${t.desiredStatus}, known ${t.knownStatus}${waiting}`;
}

async function applyAndWait(
  ctx: CliContext,
  client: Api,
  o: { arn: string; target: 'RUNNING' | 'STOPPED'; body: unknown; flags: ApplyFlags },
): Promise<void> {
  const display: ProgressDisplay | undefined = o.flags.json ? undefined : progressDisplay(ctx.io.stdout, ctx.now);
  const started = ctx.now();
  const elapsed = (): string => `${((ctx.now() - started) / 1000).toFixed(1)}s`;
  const watch = await TaskWatch.open({
    api: client,
    arn: o.arn,
    target: o.target,
    timeoutMs: o.flags.timeout,
    signal: ctx.signal,
    onChange: (e) => display?.line(`+${elapsed().padStart(5)}  ${changeLine(e)}`),
    ...(display ? { onProgress: (p) => display.progress(p) } : {}),
    onNote: (text) => ctx.err(`agent: ${text}`),
  });
  let outcome: WaitOutcome;
  try {
    const res = await client.send<Applied>('POST', '/v1/tasks', o.body);
    // The display owns the terminal while it follows the task: warnings go through it.
    for (const line of warningLines(res.body.warnings)) {
      if (display) display.line(line);
      else ctx.err(`agent: ${line}`);
    }
    display?.line(applied(res.body, res.status));
    outcome = await watch.until(res.body);
  } finally {
    watch.close();
    display?.close();
  }
  report(ctx, outcome, { ...o, elapsed: elapsed(), timeoutMs: o.flags.timeout });
}

function report(ctx: CliContext, outcome: WaitOutcome, o: { arn: string; target: string; elapsed: string; timeoutMs: number; flags: ApplyFlags }): void {
  const t = outcome.task;
  if (o.flags.json && t) ctx.json(t);
  const details = (): void => {
    if (!o.flags.json && t) ctx.out(containerTable(t));
  };
  switch (outcome.kind) {
    case 'reached':
      if (!o.flags.json) ctx.out(`task ${o.arn} is ${o.target} (${o.elapsed})`);
      return details();
    case 'stopped':
      if (!o.flags.json) ctx.out(`task ${o.arn} STOPPED instead of reaching ${o.target} (${o.elapsed}):`);
      details();
      throw new CliError(`task ${o.arn} stopped instead of running${t ? `: ${why(t)}` : ''}`, EXIT.taskStopped);
    case 'timeout':
      details();
      throw new CliError(
        `task ${o.arn} is ${t?.knownStatus ?? 'in an unknown state'}${t?.reason ? ` (${t.reason}: ${t.reasonMessage ?? ''})` : ''}, not ${o.target}, after ${durationText(o.timeoutMs)} (--timeout); the agent carries on`,
        EXIT.timeout,
      );
    case 'interrupted':
      throw new CliError(`stopped waiting for task ${o.arn} (it is ${t?.knownStatus ?? 'unknown'}; the agent carries on)`, EXIT.interrupted);
  }
}

/** The container that brought the task down, rather than those stopped because of it. */
function why(t: TaskView): string {
  const culprit =
    t.containers.find((c) => c.reason && c.reason !== 'EssentialContainerExited' && c.reason !== 'TaskStoppedBeforeStart' && c.essential) ??
    t.containers.find((c) => c.reason);
  if (!culprit) return 'no reason recorded';
  const exit = culprit.exitCode === undefined ? '' : ` (exit code ${culprit.exitCode})`;
  return `container ${culprit.name}: ${culprit.reason}${culprit.reasonMessage ? ` ${culprit.reasonMessage}` : ''}${exit}`;
}

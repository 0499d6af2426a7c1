import type { Command } from 'commander';
import type { DefinitionChange } from '../../engine/drift/definition-change.js';
import type { FieldIssue } from '../../errors.js';
import type { CliContext } from '../io.js';
import { planText } from '../render/plan.js';
import { warningLines } from '../render/warnings.js';
import { CliError, EXIT } from '../exit-codes.js';
import { readApplyFile } from '../task-file.js';
import { api, examples, withClientFlags, type ClientFlags } from './shared.js';

interface PlanFlags extends ClientFlags {
  readonly file: string;
  readonly arn?: string;
}

/** `agent task plan -f FILE`: what `task apply` of the file would do to each container, without doing it. */
export function registerPlanCommand(task: Command, ctx: CliContext): void {
  examples(
    withClientFlags(
      task
        .command('plan')
        .description('show which containers applying a file would create, recreate (with what changed), stop or leave alone; changes nothing')
        .requiredOption('-f, --file <file>', 'task definition, JSON or YAML, as `task apply` takes it; - reads standard input')
        .option('--arn <arn>', "the task's arn (default: the file's arn, else arn:berth:task/<family>:<revision>)"),
    ),
    'agent task plan -f web.yaml',
    'agent task plan -f taskdef.json --json',
  ).action(async (flags: PlanFlags) => {
    const read = await readApplyFile(flags.file, ctx.io.stdin ?? process.stdin, flags.arn === undefined ? {} : { arn: flags.arn });
    if (read.kind === 'state') throw new CliError(`${flags.file} is an export document of many tasks: plan one task's file at a time`, EXIT.usage);
    const { file } = read;
    if (file.derivedArn) ctx.err(`agent: ${flags.file} has no arn; using ${file.derivedArn} (from its family and revision; --arn sets one)`);
    const res = await api(ctx, flags).send<DefinitionChange & { warnings?: readonly FieldIssue[] }>('POST', '/v1/tasks/plan', file.body);
    for (const line of warningLines(res.body.warnings)) ctx.err(`agent: ${line}`);
    const { warnings: _warnings, ...plan } = res.body;
    if (flags.json) return ctx.json(plan);
    ctx.out(planText(plan));
  });
}

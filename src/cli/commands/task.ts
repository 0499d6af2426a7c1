import { Option, type Command } from 'commander';
import { CONTAINER_STATUSES } from '../../api/status.js';
import type { TaskView } from '../../api/view.js';
import type { CliContext } from '../io.js';
import { inspectView, taskTable } from '../render/task.js';
import { api, examples, withClientFlags, type ClientFlags } from './shared.js';
import { registerApplyCommand } from './task-apply.js';
import { registerPlanCommand } from './task-plan.js';
import { registerStatsCommand } from './task-stats.js';

interface LsFlags extends ClientFlags {
  readonly status?: string;
  readonly family?: string;
}

export function registerTaskCommands(program: Command, ctx: CliContext): void {
  const task = examples(
    program.command('task').description('apply, list, inspect and stop tasks on a running agent'),
    'agent task ls',
    'agent task apply -f task.yaml --wait',
    'agent task stats',
  );
  registerApplyCommand(task, ctx);
  registerPlanCommand(task, ctx);

  examples(
    withClientFlags(
      task
        .command('ls')
        .description('list the tasks the agent holds')
        .addOption(new Option('--status <status>', 'only tasks whose known status is this').choices(CONTAINER_STATUSES))
        .option('--family <family>', 'only tasks of this family'),
    ),
    'agent task ls',
    'agent task ls --status RUNNING --family web',
    "agent task ls --json | jq -r '.[].arn'",
  ).action(async (flags: LsFlags) => {
    const query = new URLSearchParams();
    if (flags.status) query.set('status', flags.status);
    if (flags.family) query.set('family', flags.family);
    const qs = query.size > 0 ? `?${query.toString()}` : '';
    const res = await api(ctx, flags).send<{ tasks: TaskView[] }>('GET', `/v1/tasks${qs}`);
    if (flags.json) return ctx.json(res.body.tasks);
    ctx.out(taskTable(res.body.tasks, ctx.now()));
  });

  examples(
    withClientFlags(task.command('inspect').description('show everything the agent knows about one task').argument('<arn>', 'task ARN')),
    'agent task inspect arn:berth:task/web-1',
    'agent task inspect arn:berth:task/web-1 --json',
  ).action(async (arn: string, flags: ClientFlags) => {
    const t = await api(ctx, flags).task(arn);
    if (flags.json) return ctx.json(t);
    ctx.out(inspectView(t, ctx.now()));
  });

  examples(
    withClientFlags(task.command('stop').description('ask the agent to stop a task').argument('<arn>', 'task ARN')),
    'agent task stop arn:berth:task/web-1',
  ).action(async (arn: string, flags: ClientFlags) => {
    const res = await api(ctx, flags).send<TaskView>('POST', '/v1/tasks', { arn, desiredStatus: 'STOPPED' });
    if (flags.json) return ctx.json(res.body);
    ctx.out(`task ${res.body.arn}: desired ${res.body.desiredStatus}, known ${res.body.knownStatus}`);
  });

  registerStatsCommand(task, ctx);
}

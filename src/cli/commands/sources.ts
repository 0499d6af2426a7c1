import type { Command } from 'commander';
import type { SourceStatus } from '../../sources/source-status.js';
import type { CliContext } from '../io.js';
import { table } from '../render/format.js';
import { api, examples, withClientFlags, type ClientFlags } from './shared.js';

export function registerSourcesCommand(program: Command, ctx: CliContext): void {
  examples(
    withClientFlags(program.command('sources').description('each task source (api, manifests, etcd, pushed ones): its tasks, conflicts, bad items and revision')),
    'agent sources',
    "agent sources --json | jq '.[] | select(.conflicts | length > 0)'",
  ).action(async (flags: ClientFlags) => {
    const { sources } = (await api(ctx, flags).send<{ sources: SourceStatus[] }>('GET', '/v1/sources')).body;
    if (flags.json) return ctx.json(sources);
    ctx.out(sourcesTable(sources));
  });
}

/** The table, then one line per conflict and per bad item, so what needs a look is spelled out. */
export function sourcesTable(sources: readonly SourceStatus[]): string {
  if (sources.length === 0) return 'no task sources have tasks yet';
  const lines = [
    table(
      ['SOURCE', 'KIND', 'TASKS', 'CONFLICTS', 'ERRORS', 'REVISION'],
      sources.map((s) => [s.name, s.kind, String(s.taskCount), String(s.conflicts.length), String(s.errors.length), s.revision ?? '-']),
    ),
  ];
  for (const s of sources) {
    for (const c of s.conflicts) lines.push(`conflict  ${s.name}: ${c.arn} claimed by ${c.claimants.join(', ')}; ${c.owner} keeps it`);
    for (const t of s.tasks) if (t.state === 'refused') lines.push(`refused   ${s.name}: ${t.arn} (${t.origin}): ${t.message ?? ''}`);
    for (const e of s.errors) lines.push(`error     ${s.name}: ${e.origin}: ${e.message}`);
  }
  return lines.join('\n');
}

import type { Command } from 'commander';
import type { RouteStatus } from '../../routes/route-runner.js';
import type { CliContext } from '../io.js';
import { age, table } from '../render/format.js';
import { api, examples, withClientFlags, type ClientFlags } from './shared.js';

export function registerRoutesCommand(program: Command, ctx: CliContext): void {
  examples(
    withClientFlags(program.command('routes').description("each event route's progress: its cursor, how far behind it is, failures, gaps and its last error")),
    'agent routes',
    "agent routes --json | jq '.[] | select(.failingSince)'",
  ).action(async (flags: ClientFlags) => {
    const { routes } = (await api(ctx, flags).send<{ routes: RouteStatus[] }>('GET', '/v1/routes')).body;
    if (flags.json) return ctx.json(routes);
    ctx.out(routesTable(routes, ctx.now()));
  });
}

export function routesTable(routes: readonly RouteStatus[], now: number): string {
  if (routes.length === 0) return 'no routes (declare them in the --config file)';
  return table(
    ['ROUTE', 'BACKEND', 'CURSOR', 'LAG', 'DELIVERED', 'FAILURES', 'DROPPED', 'GAP EVENTS', 'STATE'],
    routes.map((r) => [
      r.name,
      r.backend,
      String(r.seq),
      String(r.lag),
      String(r.delivered),
      String(r.failures),
      String(r.dropped),
      String(r.gapEvents),
      r.failingSince ? `failing for ${age(Date.parse(r.failingSince), now)}: ${r.lastError?.message ?? ''}` : 'ok',
    ]),
  );
}

import type { Command } from 'commander';
import type { StatsView } from '../../api/stats-view.js';
import { sleep, systemClock } from '../../util/clock.js';
import type { CliContext } from '../io.js';
import { statsTable } from '../render/stats.js';
import { api, examples, withClientFlags, type ClientFlags } from './shared.js';

interface StatsFlags extends ClientFlags {
  /** False: `--no-stream`. */
  readonly stream?: boolean;
}

/** Clears a terminal and puts the cursor home, as `docker stats` redraws. */
const CLEAR = '\x1b[2J\x1b[H';

export function registerStatsCommand(task: Command, ctx: CliContext): void {
  examples(
    withClientFlags(
      task
        .command('stats')
        .description("show running containers' CPU, memory, network and block I/O, as the agent last sampled them; redrawn every sample on a terminal")
        .argument('[arn]', 'only this task')
        .option('--no-stream', 'print one table and exit (the default when standard output is not a terminal)'),
    ),
    'agent task stats',
    'agent task stats arn:berth:task/web-1 --no-stream',
    "agent task stats --json | jq '.containers[] | {container, cpuPercent}'",
  ).action(async (arn: string | undefined, flags: StatsFlags) => {
    const client = api(ctx, flags);
    const path = arn === undefined ? '/v1/stats' : `/v1/tasks/${encodeURIComponent(arn)}/stats`;
    const read = async (): Promise<StatsView> => (await client.send<StatsView>('GET', path)).body;
    if (flags.json) return ctx.json(await read());
    if (flags.stream === false || !ctx.io.stdout.isTTY) return ctx.out(statsTable(await read()));
    // Until Ctrl-C; a new sample is there once per interval, so asking more often shows nothing new.
    while (!ctx.signal.aborted) {
      const view = await read();
      ctx.io.stdout.write(`${CLEAR}${statsTable(view)}\n`);
      await sleep(systemClock, view.intervalMs, ctx.signal).catch(() => {});
    }
  });
}

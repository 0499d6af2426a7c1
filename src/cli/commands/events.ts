import type { Command } from 'commander';
import type { StateChange } from '../../api/events.js';
import { Api, ApiRefusal } from '../client/api.js';
import { openNdjson } from '../client/ndjson.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { CliContext } from '../io.js';
import { eventLine } from '../render/events.js';
import { api, examples, wholeNumberOption, withClientFlags, type ClientFlags } from './shared.js';

interface EventFlags extends ClientFlags {
  readonly after?: number;
  readonly follow?: boolean;
}

const PAGE = 500;
const RECONNECT_MS = 1_000;

export function registerEventsCommand(program: Command, ctx: CliContext): void {
  examples(
    withClientFlags(
      program
        .command('events')
        .description('print state changes from the durable event feed, oldest first (default: every event still kept); --json prints one object per line')
        .option('--after <seq>', 'only events after this seq; exit 8 when the agent no longer keeps them all', wholeNumberOption)
        .option('--follow', 'keep printing new events as they happen, until interrupted (Ctrl-C)'),
    ),
    'agent events',
    'agent events --after 120 --follow',
    "agent events --json | jq 'select(.type == \"task\")'",
  ).action(async (flags: EventFlags) => {
      const client = api(ctx, flags);
      const print = (e: StateChange): void => void ctx.io.stdout.write(`${flags.json ? JSON.stringify(e) : eventLine(e)}\n`);
      try {
        const after = flags.after ?? (await oldestCursor(client));
        const last = await printBacklog(client, after, print);
        if (flags.follow) await follow(ctx, client, last, print);
      } catch (error) {
        if (error instanceof ApiRefusal && error.status === 410) {
          if (flags.json) ctx.io.stdout.write(`${JSON.stringify({ error: error.body })}\n`);
          throw new CliError(`${error.body?.message ?? error.message}`, EXIT.cursorGone);
        }
        throw error;
      }
    });
}

async function printBacklog(client: Api, after: number, print: (e: StateChange) => void): Promise<number> {
  let cursor = after;
  for (;;) {
    const res = await client.send<{ events: StateChange[]; last: number }>('GET', `/v1/events?after=${cursor}&limit=${PAGE}`);
    res.body.events.forEach(print);
    cursor = res.body.last;
    if (res.body.events.length < PAGE) return cursor;
  }
}

/**
 * Streams from `after` until the signal aborts. A stream the agent ends (a restart, or this
 * client falling too far behind) is reopened from the last printed seq, so nothing is skipped.
 */
async function follow(ctx: CliContext, client: Api, after: number, print: (e: StateChange) => void): Promise<void> {
  let cursor = after;
  let outage = false;
  while (!ctx.signal.aborted) {
    try {
      const stream = await openNdjson(client.socketPath, `/v1/events?after=${cursor}`, (v) => {
        const e = v as StateChange;
        cursor = e.seq;
        print(e);
      });
      if (outage) ctx.err(`agent: reconnected; following after seq ${cursor}`);
      outage = false;
      const stop = (): void => stream.close();
      ctx.signal.addEventListener('abort', stop, { once: true });
      if (ctx.signal.aborted) stop();
      await stream.ended;
      ctx.signal.removeEventListener('abort', stop);
    } catch (error) {
      if (error instanceof ApiRefusal) throw error;
      if (!(error instanceof CliError) || error.exitCode !== EXIT.unreachable) throw error;
      if (!outage) ctx.err(`agent: ${error.message}; retrying every ${RECONNECT_MS / 1000}s`);
      outage = true;
    }
    if (!ctx.signal.aborted) await sleep(RECONNECT_MS, ctx.signal);
  }
}

/** The smallest cursor the feed still serves: one before the oldest kept event. */
async function oldestCursor(client: Api): Promise<number> {
  const { oldestSeq, lastSeq } = await client.eventBounds();
  return oldestSeq === null ? lastSeq : oldestSeq - 1;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

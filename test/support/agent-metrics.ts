import type { ControlClient } from '../../src/control/client.js';
import { until } from './until.js';

/** One counter's value from the agent's /metrics, summed over the series whose labels contain `labels` (e.g. `call="list"`). */
export async function counter(client: ControlClient, name: string, labels = ''): Promise<number> {
  const text = (await client.get<string>('/metrics')).body;
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    if ((m[1] ?? '').includes(labels)) sum += Number(m[2]);
  }
  return sum;
}

/**
 * Docker list calls made so far, failed ones included. With every container's ID known, only the
 * relist lists, once a pass, so this counts relist passes: a test waits for a few more of them to
 * know the agent looked, instead of sleeping for a few intervals.
 */
export const listCalls = (client: ControlClient): Promise<number> => counter(client, 'berth_docker_api_duration_seconds_count', 'call="list"');

/** Waits until `n` more list calls (relist passes, see listCalls) have been made from now. */
export async function relistPasses(client: ControlClient, n: number, context?: () => string): Promise<void> {
  const from = await listCalls(client);
  await until(`${n} more relist passes`, async () => (await listCalls(client)) >= from + n, { ms: 30_000 + n * 5_000, ...(context ? { context } : {}) });
}

/** Failed attempts to open or read Docker's event stream. */
export const eventStreamErrors = (client: ControlClient): Promise<number> => counter(client, 'berth_docker_api_errors_total', 'call="events"');

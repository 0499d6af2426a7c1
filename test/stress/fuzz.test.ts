import { globalAgent } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskView } from '../../src/api/view.js';
import type { HttpLimits } from '../../src/config/config.js';
import { IMAGE } from '../support/fixtures.js';
import { dumpDatabase, type DatabaseDump } from './db-dump.js';
import { hostileCase, hostileOrder, PLAN, type Category, type Expectation, type HostileCase } from './hostile-requests.js';
import { LoggedAgent } from './logged-agent.js';
import { Connection, rawExchange, requestHead, sleep, type RawOutcome } from './raw-http.js';

/**
 * Issue 3, item 4: "bad input is harmless". Ten thousand generated hostile requests against a
 * running agent (real socket, real SQLite file), then proof that each got exactly the 4xx it
 * deserves (or, for a cut-off slow client or refused upload, a deliberate close), that the agent
 * still serves at full capacity, logged no failure of its own, and that every row of every table of
 * the database is as it was. The seed is printed; BERTH_FUZZ_SEED=<n> replays a run's requests.
 */

const SEED = Number(process.env.BERTH_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Enough that the slow clients (each holding a worker for a second or two) leave the CPU busy with the rest. */
const CONCURRENCY = 24;
/**
 * Small timeouts so slow clients are cut off quickly (the other limits are the agent's defaults),
 * yet well above this run's event-loop stalls (max ~70 ms alone, up to ~200 ms beside other tests):
 * client and agent share one loop, and a request sent whole must never be timed out.
 * test/unit/control/limits.test.ts covers 300 ms.
 */
const LIMITS: Partial<HttpLimits> = { maxConnections: 64, headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, timeoutCheckIntervalMs: 100 };
const SEED_ARN = 'arn:fuzz:seed/running';
const STOPPED_ARN = 'arn:fuzz:seed/stopped';
const UNKNOWN_DOCKER_ID = 'deadbeef'.repeat(8);

const seedTask = (arn: string, hostPort: number) => ({
  arn,
  family: 'seed',
  version: 1,
  containers: [
    { name: 'web', image: IMAGE, command: ['sleep', '300'], environment: { A: '1' }, labels: { team: 'x' }, portMappings: [{ containerPort: 80, hostPort }] },
    { name: 'side', image: IMAGE, essential: false },
  ],
});

interface Result {
  readonly index: number;
  readonly category: Category;
  readonly kind: string;
  readonly expect: Expectation;
  readonly outcome: RawOutcome;
  /** For body cases: JSON.parse or parseTaskInput, run here, refused the body. */
  readonly locallyInvalid?: boolean;
  readonly locallyMalformed?: boolean;
}

let agent: LoggedAgent;
let before: DatabaseDump;
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
const results: Result[] = [];

/** Waits until two dumps in a row agree: the seed tasks have finished every write they cause. */
async function quiescentDump(path: string): Promise<DatabaseDump> {
  let last = dumpDatabase(path);
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    const next = dumpDatabase(path);
    if (JSON.stringify(next) === JSON.stringify(last)) return next;
    last = next;
  }
  throw new Error('the database kept changing for 5 s with no request being made');
}

function judge(r: Result): string | undefined {
  const { outcome: o, expect: e } = r;
  if (o.status !== undefined && o.status >= 500) return `answered ${o.status} (${o.code ?? 'no code'})`;
  if (e.clientHangsUp) return o.kind === 'hung' ? 'hung' : undefined;
  if (o.kind === 'hung') return `no answer and no close within the deadline (${Math.round(o.ms)} ms)`;
  if (o.kind === 'closed') return e.mayClose ? undefined : `closed without an answer${o.socketError ? ` (${o.socketError})` : ''}`;
  if (!e.statuses.includes(o.status!)) return `answered ${o.status} ${o.code ?? ''}, expected ${e.statuses.join('/') || '(nothing: the body was valid)'}`;
  if (e.code !== undefined && o.code !== e.code) return `answered ${o.status} with code ${o.code}, expected ${e.code}`;
  return undefined;
}

function outcomeLabel(o: RawOutcome): string {
  return o.kind === 'answered' ? String(o.status) : o.kind;
}

function countsTable(rows: readonly Result[]): string {
  const byCategory = new Map<Category, Map<string, number>>();
  for (const r of rows) {
    const counts = byCategory.get(r.category) ?? new Map<string, number>();
    counts.set(outcomeLabel(r.outcome), (counts.get(outcomeLabel(r.outcome)) ?? 0) + 1);
    byCategory.set(r.category, counts);
  }
  const lines = [...byCategory].map(([category, counts]) => {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const detail = [...counts].sort().map(([label, n]) => `${label}: ${n}`).join(', ');
    return `  ${category.padEnd(17)} ${String(total).padStart(5)}   ${detail}`;
  });
  return [...lines, `  ${'total'.padEnd(17)} ${String(rows.length).padStart(5)}`].join('\n');
}

/** How many cases of each kind a category held, e.g. the mutations behind the body cases. */
function kindCounts(rows: readonly Result[], category: Category): string {
  const counts = new Map<string, number>();
  for (const r of rows) if (r.category === category) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([kind, n]) => `${kind} ${n}`).join(', ');
}

beforeAll(async () => {
  agent = await new LoggedAgent().start(LIMITS);
  expect((await agent.client.post('/v1/tasks', seedTask(SEED_ARN, 18_080))).status).toBe(201);
  expect((await agent.client.post('/v1/tasks', seedTask(STOPPED_ARN, 18_081))).status).toBe(201);
  await untilKnown(SEED_ARN, 'RUNNING');
  await untilKnown(STOPPED_ARN, 'RUNNING');
  expect((await agent.client.post('/v1/tasks', { arn: STOPPED_ARN, desiredStatus: 'STOPPED' })).status).toBe(200);
  await untilKnown(STOPPED_ARN, 'STOPPED');
  const seed = (await agent.client.get<TaskView>(`/v1/tasks?taskarn=${encodeURIComponent(SEED_ARN)}`)).body;
  expect(seed.containers.some((c) => c.dockerId?.startsWith(UNKNOWN_DOCKER_ID.slice(0, 12)))).toBe(false);
  before = await quiescentDump(agent.config.databasePath);
  expect(before.tables.tasks).toHaveLength(2);
});

afterAll(async () => {
  await agent?.dispose();
});

async function untilKnown(arn: string, status: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const res = await agent.client.get<TaskView>(`/v1/tasks?taskarn=${encodeURIComponent(arn)}`);
    if (res.body.knownStatus === status) return;
    await sleep(10);
  }
  throw new Error(`${arn} never reached ${status}`);
}

describe(`hostile requests (seed ${SEED}; replay with BERTH_FUZZ_SEED=${SEED})`, () => {
  it('answers each of 10,000+ hostile requests with the 4xx it deserves (or a deliberate close), none 5xx, none hanging', async () => {
    console.log(`fuzz seed ${SEED}`);
    const order = hostileOrder(SEED);
    expect(order.length).toBeGreaterThanOrEqual(10_000);
    const ctx = {
      seedArn: SEED_ARN,
      unknownDockerId: UNKNOWN_DOCKER_ID,
      limits: { maxHeaderBytes: agent.config.http.maxHeaderBytes, ...(LIMITS as Required<Pick<HttpLimits, 'headersTimeoutMs' | 'requestTimeoutMs' | 'timeoutCheckIntervalMs'>>) },
    };
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < order.length) {
          const index = next++;
          const c: HostileCase = hostileCase(SEED, index, order[index]!, ctx);
          const outcome = await rawExchange(agent.config.socketPath, c.script, c.deadlineMs);
          results.push({
            index,
            category: c.category,
            kind: c.kind,
            expect: c.expect,
            outcome,
            ...(c.local === undefined ? {} : { locallyInvalid: c.local !== 'valid', locallyMalformed: c.local === 'malformed' }),
          });
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    loop.disable();
    console.log(
      `${results.length} hostile requests in ${seconds.toFixed(1)} s (seed ${SEED}; event-loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms, ` +
        `max ${(loop.max / 1e6).toFixed(0)} ms), by category and outcome:\n${countsTable(results)}`,
    );
    for (const category of ['body-mutation', 'malformed-json', 'deep-nesting'] as const) {
      console.log(`  ${category} by kind: ${kindCounts(results, category)}`);
    }

    const bodyCases = results.filter((r) => r.locallyInvalid !== undefined);
    // The generator proves itself: every fuzzed body is refused by the agent's own schema here.
    expect(bodyCases.filter((r) => !r.locallyInvalid).map((r) => `#${r.index} ${r.category}/${r.kind}`)).toEqual([]);
    expect(bodyCases.length).toBe(PLAN['body-mutation'] + PLAN['deep-nesting'] + PLAN['malformed-json']);
    expect(results.filter((r) => r.category === 'malformed-json' && !r.locallyMalformed)).toEqual([]);

    const failures = results
      .map((r) => ({ r, why: judge(r) }))
      .filter((f) => f.why !== undefined)
      .map(({ r, why }) => `#${r.index} ${r.category}/${r.kind}: ${why} — ${JSON.stringify(r.outcome.head.slice(0, 160))}`);
    expect(failures.slice(0, 25), `${failures.length} of ${results.length} wrong (seed ${SEED})`).toEqual([]);
    // Stated separately so a regression names its kind plainly.
    expect(results.filter((r) => (r.outcome.status ?? 0) >= 500)).toEqual([]);
    expect(results.filter((r) => r.outcome.kind === 'hung')).toEqual([]);
  });

  it('logged no failure of its own and polluted no prototype', () => {
    expect(agent.errors()).toEqual([]);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('still serves afterwards, on every connection slot', async () => {
    expect((await agent.client.get('/v1/health')).status).toBe(200);
    const same = await agent.client.post<TaskView>('/v1/tasks', seedTask(SEED_ARN, 18_080));
    expect(same.status).toBe(200);
    expect(same.body.knownStatus).toBe('RUNNING');
    // Every slot up to maxConnections is free again: nothing the fuzz did is still holding one.
    // Sockets cut off a moment ago may still be closing, so the first attempts may fall short.
    // The ControlClient's kept-alive sockets would hold slots until the server's keep-alive timeout.
    globalAgent.destroy();
    const slots = agent.config.http.maxConnections;
    let served = 0;
    for (let attempt = 0; attempt < 20 && served < slots; attempt++) {
      const conns = await Promise.all(Array.from({ length: slots }, () => Connection.open(agent.config.socketPath)));
      const answers = await Promise.allSettled(conns.map((c) => c.ask(requestHead('GET', '/v1/health', [['host', 'agent']]), 3_000)));
      served = answers.filter((a) => a.status === 'fulfilled' && a.value.status === 200).length;
      conns.forEach((c) => c.close());
      if (served < slots) await sleep(150);
    }
    expect(served).toBe(slots);
  });

  it('left the database exactly as it was: every table, every row', async () => {
    const after = await quiescentDump(agent.config.databasePath);
    expect(after).toEqual(before);
  });

  it('still creates a task, and runs it, after all that', async () => {
    const created = await agent.client.post<TaskView>('/v1/tasks', seedTask('arn:fuzz:after/1', 18_082));
    expect(created.status).toBe(201);
    await untilKnown('arn:fuzz:after/1', 'RUNNING');
  });
});

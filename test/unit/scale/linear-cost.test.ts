import { describe, expect, it } from 'vitest';
import { runScaleScenario, type ScaleCounts } from '../../support/scale-scenario.js';

// Issue 12 §1: the same scenario at two sizes, four times apart; the work per transition must not
// grow with the number of tasks held. Counts, not times: they do not depend on the machine's load.
const SMALL = 250;
const LARGE = 1_000;

function perTransition(c: ScaleCounts) {
  const t = c.transitions;
  return {
    dockerCalls: c.dockerCalls / t,
    fakeWork: c.fakeWork / t,
    sqlStatements: c.sql.statements / t,
    rowsChanged: c.sql.rowsChanged / t,
    boundBytes: c.sql.boundBytes / t,
    fileBytes: c.writes.bytes / t,
  };
}

describe('linear cost: work per transition at 250 and 1,000 two-container tasks (fake Docker, SQLite file)', () => {
  it('stays flat: Docker calls, the fake Docker\'s own work, SQL statements, rows and bytes written', { timeout: 240_000 }, async () => {
    const small = await runScaleScenario(SMALL);
    const large = await runScaleScenario(LARGE);
    // Both runs did the whole scenario: every task reached RUNNING, stopped and was cleaned up.
    expect(small.transitions / SMALL).toBe(large.transitions / LARGE);
    expect(large.transitions).toBeGreaterThanOrEqual(LARGE * 6);

    const a = perTransition(small);
    const b = perTransition(large);
    const ratio = (k: keyof typeof a): number => b[k] / a[k];
    const report = Object.fromEntries(Object.keys(a).map((k) => [k, `${a[k as keyof typeof a].toFixed(2)} → ${b[k as keyof typeof a].toFixed(2)}`]));
    for (const k of ['dockerCalls', 'fakeWork', 'sqlStatements', 'rowsChanged', 'boundBytes'] as const) {
      expect(ratio(k), `${k} per transition: ${JSON.stringify(report)}`).toBeGreaterThan(0.9);
      expect(ratio(k), `${k} per transition: ${JSON.stringify(report)}`).toBeLessThan(1.1);
    }
    // What reaches the file is SQLite's pages: a commit rewrites the B-tree pages on the path to
    // each row it changes, and that path deepens with the rows held (log n), so this may grow a
    // little; a cost linear in the tasks held would be 4x.
    expect(ratio('fileBytes'), `file bytes per transition: ${JSON.stringify(report)}`).toBeLessThan(1.5);
    // Commits are batched; never more than one transaction per transition.
    expect(large.sql.transactions).toBeLessThanOrEqual(large.transitions);
  });
});

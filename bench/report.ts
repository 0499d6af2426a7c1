/**
 * One measured figure of a benchmark, as `npm run bench` (bench/run-all.ts) collects it: each
 * script prints its own lines for a person and one `BENCH_RESULT` line per figure for the table,
 * the JSON results and the plot.
 */
export interface BenchResult {
  readonly scenario: string;
  readonly unit: 'ms' | 'MB';
  /** berth's median. */
  readonly berth: number;
  /** What berth is measured against in the same run, and its median; absent: an absolute target. */
  readonly baseline?: { readonly name: string; readonly value: number };
  /** Further systems measured in the same run (docker-compose), by name. */
  readonly others?: Readonly<Record<string, number>>;
  /** The target: a ratio to the baseline, or a bound on berth's figure. */
  readonly goal?: { readonly ratio?: number; readonly max?: number };
  readonly rounds: number;
  /** Points of a plotted series (launch time against N). */
  readonly series?: { readonly name: string; readonly x: number };
}

export const RESULT_PREFIX = 'BENCH_RESULT ';

export function report(result: BenchResult): void {
  console.log(RESULT_PREFIX + JSON.stringify(result));
}

/** Whether a figure meets its goal; undefined when it has none. */
export function goalMet(r: BenchResult): boolean | undefined {
  if (!r.goal) return undefined;
  if (r.goal.ratio !== undefined && r.baseline) return r.berth / r.baseline.value <= r.goal.ratio;
  if (r.goal.max !== undefined) return r.berth <= r.goal.max;
  return undefined;
}

/**
 * `npm run bench`: every benchmark, one after another (each measures berth side by side with its
 * baseline in one run, over rounds), then one table of the medians and ratios, the results as
 * JSON (`.bench/results.json`) and the launch plot (`docs/perf/launch.svg`) made from them.
 *
 *   npm run bench                         (after the README's set-up: real Docker, the registry, etcd)
 *   BENCH_ONLY=launch-n,drift npm run bench
 */
import { spawn } from 'node:child_process';
import { cpus, release } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import Docker from 'dockerode';
import { goalMet, RESULT_PREFIX, type BenchResult } from './report.js';
import { launchPlot } from './plot.js';

const SCRIPTS = ['launch', 'launch-n', 'dependency-chain', 'apply-load', 'recovery', 'pulls', 'routes', 'services', 'etcd', 'drift'];

function run(script: string): Promise<{ code: number; results: BenchResult[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `bench/${script}.ts`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const results: BenchResult[] = [];
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith(RESULT_PREFIX)) results.push(JSON.parse(line.slice(RESULT_PREFIX.length)) as BenchResult);
        else console.log(line);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, results }));
  });
}

function table(results: readonly BenchResult[]): string {
  const rows = results.map((r) => {
    const ratio = r.baseline ? `${(r.berth / r.baseline.value).toFixed(2)}x` : '';
    const goal = r.goal?.ratio !== undefined ? `≤ ${r.goal.ratio}x` : r.goal?.max !== undefined ? `≤ ${r.goal.max} ${r.unit}` : '';
    const met = goalMet(r);
    const others = Object.entries(r.others ?? {}).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
    return [r.scenario, `${r.berth.toFixed(1)} ${r.unit}`, r.baseline ? `${r.baseline.name} ${r.baseline.value.toFixed(1)}` : '', ratio, others, goal, met === undefined ? '' : met ? 'met' : 'MISSED'];
  });
  const head = ['scenario', 'berth (median)', 'baseline (median)', 'ratio', 'others', 'goal', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',');
  const scripts = only ? SCRIPTS.filter((s) => only.includes(s)) : SCRIPTS;
  const results: BenchResult[] = [];
  const failed: string[] = [];
  for (const script of scripts) {
    console.log(`\n== bench/${script}.ts`);
    const outcome = await run(script);
    results.push(...outcome.results);
    if (outcome.code !== 0) failed.push(script);
  }
  const dockerVersion = await new Docker({ socketPath: '/var/run/docker.sock' }).version().then((v) => v.Version, () => null);
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', kernel: release(), node: process.version, docker: dockerVersion };
  mkdirSync('.bench', { recursive: true });
  writeFileSync('.bench/results.json', `${JSON.stringify({ at: new Date().toISOString(), machine, results }, null, 2)}\n`);
  const launch = results.filter((r) => r.series?.name === 'launch');
  if (launch.length > 0) {
    mkdirSync('docs/perf', { recursive: true });
    writeFileSync('docs/perf/launch.svg', launchPlot(launch, machine));
  }
  console.log(`\n${table(results)}\n`);
  console.log(`machine: ${machine.cpus} × ${machine.cpu}, Linux ${machine.kernel}, Node ${machine.node}, Docker ${machine.docker ?? 'not reachable'}`);
  console.log(`results: .bench/results.json${launch.length > 0 ? ', plot: docs/perf/launch.svg' : ''}`);
  if (failed.length > 0) {
    console.error(`benchmarks that failed: ${failed.join(', ')}`);
    process.exit(1);
  }
}

await main();

import type { BenchResult } from './report.js';

/*
 * The launch plot: launch time against N for berth, raw dockerode and docker-compose, as a plain
 * SVG (no plotting dependency: three polylines and their axes). N is on a log scale, so 10, 30
 * and 100 are evenly spread.
 */

const W = 640;
const H = 400;
const PAD = { left: 70, right: 170, top: 40, bottom: 50 };
const COLORS: Readonly<Record<string, string>> = { berth: '#1f77b4', 'raw dockerode': '#2ca02c', 'docker-compose up -d': '#d62728' };

export function launchPlot(results: readonly BenchResult[], machine: { cpus: number; docker: string | null }): string {
  const points = [...results].sort((a, b) => a.series!.x - b.series!.x);
  const series = new Map<string, { x: number; y: number }[]>();
  const add = (name: string, x: number, y: number): void => void series.set(name, [...(series.get(name) ?? []), { x, y }]);
  for (const r of points) {
    add('berth', r.series!.x, r.berth);
    if (r.baseline) add(r.baseline.name, r.series!.x, r.baseline.value);
    for (const [name, value] of Object.entries(r.others ?? {})) add(name, r.series!.x, value);
  }
  const xs = points.map((r) => r.series!.x);
  const maxY = Math.max(...[...series.values()].flat().map((p) => p.y)) * 1.1;
  const lx = (x: number): number => Math.log10(x);
  const [x0, x1] = [lx(Math.min(...xs)), lx(Math.max(...xs))];
  const px = (x: number): number => PAD.left + ((lx(x) - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right);
  const py = (y: number): number => H - PAD.bottom - (y / maxY) * (H - PAD.top - PAD.bottom);
  const ticks = Array.from({ length: 5 }, (_, i) => (maxY / 5) * (i + 1));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${PAD.left}" y="22" font-size="14">Launch on real Docker: N one-container tasks → all running (median ms)</text>`,
    `<line x1="${PAD.left}" y1="${py(0)}" x2="${W - PAD.right}" y2="${py(0)}" stroke="black"/>`,
    `<line x1="${PAD.left}" y1="${py(0)}" x2="${PAD.left}" y2="${PAD.top}" stroke="black"/>`,
    ...ticks.map((t) => `<line x1="${PAD.left - 4}" y1="${py(t).toFixed(1)}" x2="${W - PAD.right}" y2="${py(t).toFixed(1)}" stroke="#ddd"/><text x="${PAD.left - 8}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${Math.round(t)}</text>`),
    ...xs.map((x) => `<text x="${px(x).toFixed(1)}" y="${H - PAD.bottom + 18}" text-anchor="middle">${x}</text>`),
    `<text x="${(PAD.left + W - PAD.right) / 2}" y="${H - 12}" text-anchor="middle">N (tasks, log scale) — ${machine.cpus} cores, Docker ${machine.docker ?? '?'}</text>`,
  ];
  let legend = 0;
  for (const [name, pts] of series) {
    const color = COLORS[name] ?? '#555';
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = PAD.top + 10 + legend++ * 20;
    out.push(`<line x1="${W - PAD.right + 15}" y1="${ly}" x2="${W - PAD.right + 35}" y2="${ly}" stroke="${color}" stroke-width="2"/><text x="${W - PAD.right + 40}" y="${ly + 4}">${name}</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

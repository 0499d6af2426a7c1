import type { PullProgressSnapshot } from '../../engine/pull-progress.js';
import type { OutStream } from '../io.js';

/** Where `task apply --wait` shows what happens: status changes, and pull progress per container. */
export interface ProgressDisplay {
  /** A status change: printed once, above any bars. */
  line(text: string): void;
  progress(p: PullProgressSnapshot): void;
  /** Draws the final state of the bars and stops redrawing. */
  close(): void;
}

/** Without a terminal, a log reader wants a line now and then, not one per Docker progress message. */
export const PLAIN_PROGRESS_INTERVAL_MS = 3_000;
/** On a terminal, redraws are coalesced to this rate; Docker sends progress far faster. */
const REDRAW_MS = 100;
const BAR_WIDTH = 24;

export function progressDisplay(out: OutStream, now: () => number): ProgressDisplay {
  return out.isTTY ? new TerminalDisplay(out) : new PlainDisplay(out, now);
}

export function pulled(p: PullProgressSnapshot): boolean {
  return p.result === 'pulled';
}

export function fraction(p: PullProgressSnapshot): number {
  if (pulled(p)) return 1;
  if (p.total > 0) return Math.min(1, p.current / p.total);
  return p.layers.total > 0 ? p.layers.done / p.layers.total : 0;
}

function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function detail(p: PullProgressSnapshot): string {
  if (pulled(p)) return 'pulled';
  if (p.result === 'failed') return 'failed';
  if (p.waiting) return 'waiting for a pull slot';
  const parts = [`${p.layers.done}/${p.layers.total} layers`];
  if (p.total > 0) parts.push(`${bytes(p.current)}/${bytes(p.total)}`);
  return parts.join(', ');
}

class PlainDisplay implements ProgressDisplay {
  private readonly printed = new Map<string, { at: number; waiting: boolean }>();

  constructor(
    private readonly out: OutStream,
    private readonly now: () => number,
  ) {}

  line(text: string): void {
    this.out.write(`${text}\n`);
  }

  progress(p: PullProgressSnapshot): void {
    const last = this.printed.get(p.containerName);
    const t = this.now();
    // The end of a wait for a pull slot is news, however soon it comes.
    if (last !== undefined && last.waiting === p.waiting && t - last.at < PLAIN_PROGRESS_INTERVAL_MS) return;
    this.printed.set(p.containerName, { at: t, waiting: p.waiting });
    if (p.waiting) return this.line(`container ${p.containerName} pulling ${p.image}: waiting for a pull slot`);
    const pct = Math.floor(fraction(p) * 100);
    this.line(`container ${p.containerName} pulling ${p.image}: ${pct}% (${detail(p)})`);
  }

  close(): void {}
}

/**
 * One bar per container, redrawn in place: the cursor is moved back up over the block, the
 * screen below it cleared, and the block written again. Lines are cut to the terminal's width,
 * because a wrapped line would throw the upward count off and smear the block down the screen.
 */
class TerminalDisplay implements ProgressDisplay {
  private readonly bars = new Map<string, PullProgressSnapshot>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly out: OutStream) {}

  line(text: string): void {
    if (this.closed) return void this.out.write(`${text}\n`);
    this.out.write(`${this.erase()}${this.fit(text)}\n${this.block()}`);
  }

  progress(p: PullProgressSnapshot): void {
    if (this.closed) return;
    const first = !this.bars.has(p.containerName);
    this.bars.set(p.containerName, p);
    if (!first && !p.done) {
      this.timer ??= setTimeout(() => this.redraw(), REDRAW_MS).unref();
      return;
    }
    this.redraw();
    // Finished bars stay on screen as they are and are never redrawn: later lines go below them.
    if ([...this.bars.values()].every((b) => b.done)) {
      this.bars.clear();
      this.drawn = 0;
    }
  }

  close(): void {
    if (this.closed) return;
    this.redraw();
    this.closed = true;
  }

  private redraw(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.out.write(`${this.erase()}${this.block()}`);
  }

  private erase(): string {
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    this.drawn = 0;
    return `${up}\r\x1b[J`;
  }

  private block(): string {
    const names = [...this.bars.keys()];
    const nameWidth = Math.max(0, ...names.map((n) => n.length));
    const lines = [...this.bars.values()].map((p) => this.fit(barLine(p, nameWidth)));
    this.drawn = lines.length;
    return lines.map((l) => `${l}\n`).join('');
  }

  private fit(text: string): string {
    const width = Math.max(20, (this.out.columns || 80) - 1);
    return text.length > width ? `${text.slice(0, width - 1)}…` : text;
  }
}

export function barLine(p: PullProgressSnapshot, nameWidth: number): string {
  const f = fraction(p);
  const filled = Math.round(f * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
  return `${p.containerName.padEnd(nameWidth)}  ${bar} ${`${Math.floor(f * 100)}%`.padStart(4)}  ${p.image}  ${detail(p)}`;
}

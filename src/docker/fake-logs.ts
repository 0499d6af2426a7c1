import type { LogChunk, LogOptions } from './docker-client.js';
import { dockerLogTime } from './log-lines.js';

interface Entry {
  readonly stream: LogChunk['stream'];
  /** One line with its newline, or a last piece without. */
  readonly text: string;
  readonly timeMs: number;
}

/**
 * FakeDocker's container output, kept per container as Docker's json-file driver keeps it: line
 * by line, each with the time it was written. Followers wait for more until the container stops.
 */
export class FakeLogs {
  private readonly entries = new Map<string, Entry[]>();
  private readonly wakers = new Set<() => void>();

  write(id: string, stream: LogChunk['stream'], text: string, timeMs: number): void {
    const list = this.entries.get(id) ?? [];
    for (const piece of text.match(/[^\n]*\n|[^\n]+$/g) ?? []) list.push({ stream, text: piece, timeMs });
    this.entries.set(id, list);
    this.wakeAll();
  }

  /** The container stopped: its followers end once they have read everything. */
  ended(): void {
    this.wakeAll();
  }

  /** The container is gone, and its output with it. */
  forget(id: string): void {
    this.entries.delete(id);
    this.wakeAll();
  }

  /**
   * What Docker answers: the lines since `sinceMs`, the last `tail` of them, then (following a
   * running container) each new line until `running` says it stopped or the signal aborts.
   */
  async *read(id: string, options: LogOptions, running: () => boolean): AsyncGenerator<LogChunk> {
    const { signal } = options;
    const since = options.sinceMs ?? Number.NEGATIVE_INFINITY;
    const now = this.entries.get(id) ?? [];
    // Lines written while the backlog is read come after it, each once.
    let cursor = now.length;
    const held = now.filter((e) => e.timeMs >= since);
    const backlog = options.tail === undefined ? held : held.slice(Math.max(0, held.length - options.tail));
    for (const e of backlog) yield chunk(e, options.timestamps);
    while (options.follow && !signal.aborted) {
      const list = this.entries.get(id) ?? [];
      while (cursor < list.length && !signal.aborted) yield chunk(list[cursor++]!, options.timestamps);
      if (!running() || signal.aborted) return;
      await this.nextWake(signal);
    }
  }

  private nextWake(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.wakers.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.wakers.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }
}

function chunk(e: Entry, timestamps: boolean): LogChunk {
  return { stream: e.stream, data: Buffer.from(timestamps ? `${dockerLogTime(e.timeMs)} ${e.text}` : e.text, 'utf8') };
}

import type { SavedSourceTask, Saver, SourceChange } from '../state/saver.js';

interface Waiter {
  readonly change: SourceChange;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Source rows written in groups: the changes passes hand in during one turn of the event loop go
 * to the saver as one transaction (one fsync), as the state store groups task commits. A pass that
 * follows an earlier write of the same row in the same group wins, being later. A failed group
 * fails every change in it, and each pass keeps its rows for the next try.
 */
export class RowBatch {
  private waiting: Waiter[] = [];
  private flushing = false;

  constructor(private readonly saver: Saver) {}

  save(change: SourceChange): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ change, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length > 0) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.waiting;
        this.waiting = [];
        try {
          await this.saver.saveSources(merged(batch.map((w) => w.change)));
          for (const w of batch) w.resolve();
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

/** One change with the last word on each row and each revision. */
function merged(changes: readonly SourceChange[]): SourceChange {
  const rows = new Map<string, SavedSourceTask | { source: string; arn: string; removed: true }>();
  const revisions = new Map<string, string>();
  for (const c of changes) {
    for (const r of c.remove ?? []) rows.set(`${r.source}\0${r.arn}`, { ...r, removed: true });
    for (const t of c.put ?? []) rows.set(`${t.source}\0${t.arn}`, t);
    for (const r of c.revisions ?? []) revisions.set(r.source, r.revision);
  }
  const put: SavedSourceTask[] = [];
  const remove: { source: string; arn: string }[] = [];
  for (const row of rows.values()) {
    if ('removed' in row) remove.push({ source: row.source, arn: row.arn });
    else put.push(row);
  }
  return { put, remove, revisions: [...revisions].map(([source, revision]) => ({ source, revision })) };
}

import type { SavedSourceTask } from '../state/saver.js';
import type { SourcedTask, SourceUpdate } from './task-source.js';

/** One source's claim on one arn. */
export interface Claim {
  readonly source: string;
  readonly task: SourcedTask;
  /** The definition as JSON: two claims with the same text are the same definition. */
  readonly json: string;
  /** When the source started claiming the arn, across sources: the lowest claim owns it. */
  readonly claim: number;
}

/**
 * Each source's set, kept apart (source → arn → claim), and per arn the sources claiming it, so
 * one arn's owner is found without looking at other arns. The conflict rule lives here: the source
 * that claimed an arn first owns it; a source that drops and re-claims it queues up again.
 */
export class SourceSets {
  private readonly bySource = new Map<string, Map<string, Claim>>();
  private readonly byArn = new Map<string, Map<string, Claim>>();
  private nextClaim = 1;

  /** A saved row, as it was when saved (its claim order included). */
  load(row: SavedSourceTask): Claim {
    const claim: Claim = { source: row.source, task: { definition: row.definition, origin: row.origin }, json: JSON.stringify(row.definition), claim: row.claim };
    this.put(claim);
    this.nextClaim = Math.max(this.nextClaim, row.claim + 1);
    return claim;
  }

  /** Applies an update to `source`'s set; returns the arns whose claim by that source changed. */
  apply(source: string, update: SourceUpdate): Set<string> {
    const changed = new Set<string>();
    const set = this.bySource.get(source) ?? new Map<string, Claim>();
    switch (update.op) {
      case 'SET': {
        const next = new Map(update.tasks.map((t) => [t.definition.arn, t]));
        for (const arn of set.keys()) if (!next.has(arn) && this.drop(source, arn)) changed.add(arn);
        for (const [arn, task] of next) if (this.upsert(source, task)) changed.add(arn);
        break;
      }
      case 'ADD':
        if (this.upsert(source, update.task)) changed.add(update.task.definition.arn);
        break;
      case 'REMOVE':
        if (this.drop(source, update.arn)) changed.add(update.arn);
        break;
    }
    return changed;
  }

  owner(arn: string): Claim | undefined {
    let owner: Claim | undefined;
    for (const c of this.byArn.get(arn)?.values() ?? []) if (!owner || c.claim < owner.claim) owner = c;
    return owner;
  }

  /** Every source claiming `arn`, owner first, then in claim order. */
  claimants(arn: string): Claim[] {
    return [...(this.byArn.get(arn)?.values() ?? [])].sort((a, b) => a.claim - b.claim);
  }

  claimsOf(source: string): Claim[] {
    return [...(this.bySource.get(source)?.values() ?? [])].sort((a, b) => (a.task.definition.arn < b.task.definition.arn ? -1 : 1));
  }

  sourceNames(): string[] {
    return [...this.bySource.keys()];
  }

  private upsert(source: string, task: SourcedTask): boolean {
    const arn = task.definition.arn;
    const was = this.bySource.get(source)?.get(arn);
    const json = JSON.stringify(task.definition);
    if (was && was.json === json && was.task.origin === task.origin) return false;
    this.put({ source, task, json, claim: was?.claim ?? this.nextClaim++ });
    return true;
  }

  private put(claim: Claim): void {
    const arn = claim.task.definition.arn;
    let set = this.bySource.get(claim.source);
    if (!set) this.bySource.set(claim.source, (set = new Map()));
    set.set(arn, claim);
    let claims = this.byArn.get(arn);
    if (!claims) this.byArn.set(arn, (claims = new Map()));
    claims.set(claim.source, claim);
  }

  private drop(source: string, arn: string): boolean {
    const set = this.bySource.get(source);
    if (!set?.delete(arn)) return false;
    const claims = this.byArn.get(arn);
    claims?.delete(source);
    if (claims?.size === 0) this.byArn.delete(arn);
    return true;
  }
}

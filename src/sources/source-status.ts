import type { Claim } from './source-sets.js';
import type { SourceItemError } from './task-source.js';

/** `pushed`: its set is sent to the agent (the socket); `watched`: the agent reads it (a directory, etcd). */
export type SourceKind = 'pushed' | 'watched';

/** One task of a source's set, as GET /v1/sources shows it. */
export interface SourceTaskStatus {
  readonly arn: string;
  readonly origin: string;
  /**
   * `applied`: this source owns the arn and the engine has its definition; `conflict`: another
   * source (`owner`) claimed the arn first, this claim waits; `refused`: the engine refused this
   * definition (`message`), and runs what it had.
   */
  readonly state: 'applied' | 'conflict' | 'refused';
  readonly owner?: string;
  readonly message?: string;
}

/** An arn this source claims together with others: reported on every one of them. */
export interface SourceConflict {
  readonly arn: string;
  readonly owner: string;
  /** Every source claiming it, owner first, in claim order. */
  readonly claimants: readonly string[];
}

export interface SourceStatus {
  readonly name: string;
  readonly kind: SourceKind;
  readonly revision?: string;
  readonly taskCount: number;
  readonly tasks: readonly SourceTaskStatus[];
  /** Items the source could not take (a bad manifest file), by origin, with the API's message. */
  readonly errors: readonly SourceItemError[];
  readonly conflicts: readonly SourceConflict[];
}

export interface StatusReader {
  kind(name: string): SourceKind;
  revision(name: string): string | undefined;
  claims(name: string): readonly Claim[];
  owner(arn: string): string | undefined;
  claimants(arn: string): readonly string[];
  refused(name: string, arn: string): string | undefined;
  errors(name: string): readonly SourceItemError[];
}

export function sourceStatuses(names: readonly string[], read: StatusReader): SourceStatus[] {
  return names.map((name) => {
    const claims = read.claims(name);
    const tasks: SourceTaskStatus[] = [];
    const conflicts: SourceConflict[] = [];
    for (const c of claims) {
      const arn = c.task.definition.arn;
      const owner = read.owner(arn) ?? name;
      const refused = read.refused(name, arn);
      const state = owner !== name ? 'conflict' : refused !== undefined ? 'refused' : 'applied';
      tasks.push({ arn, origin: c.task.origin, state, ...(owner === name ? {} : { owner }), ...(refused === undefined ? {} : { message: refused }) });
      const claimants = read.claimants(arn);
      if (claimants.length > 1) conflicts.push({ arn, owner, claimants });
    }
    const revision = read.revision(name);
    return { name, kind: read.kind(name), ...(revision === undefined ? {} : { revision }), taskCount: tasks.length, tasks, errors: read.errors(name), conflicts };
  });
}

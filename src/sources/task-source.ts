import type { TaskDefinition } from '../api/task.js';

/**
 * One place tasks come from (kube-proxy's config sources): the control socket (`api`), a watched
 * manifest directory (`manifests`), etcd (`etcd`). A source tells the merger (src/sources/) what its
 * set now is; the merger keeps each source's set apart, resolves conflicts and drives the engine.
 *
 * A source never talks to the engine itself: it only describes its own set.
 */
export interface TaskSource {
  /** Stable name, shown in views and saved with each set (`api`, `manifests`, `etcd`, …). */
  readonly name: string;
  /**
   * Starts delivering updates to `sink`. `saved` is the source's last applied revision (etcd's
   * revision, as text), when one was saved, so a restart neither replays nor misses anything, and
   * its last applied set (a manifest directory keeps a file's last good task across a restart).
   */
  start(sink: SourceSink, saved: { readonly revision?: string; readonly tasks?: readonly SourcedTask[] }): Promise<void>;
  stop(): Promise<void>;
}

/** What a source's set became. Every update may carry the revision it brings the source to. */
export type SourceUpdate =
  /** The source's whole set is now exactly `tasks` (a PUT, a directory rescan, an etcd re-list). */
  | { readonly op: 'SET'; readonly tasks: readonly SourcedTask[]; readonly revision?: string }
  /** Upsert by arn. */
  | { readonly op: 'ADD'; readonly task: SourcedTask; readonly revision?: string }
  /** Delete by arn (an unknown arn is a no-op). */
  | { readonly op: 'REMOVE'; readonly arn: string; readonly revision?: string };

export interface SourcedTask {
  /** The parsed, validated definition (parseTaskInput), its desired status included. */
  readonly definition: TaskDefinition;
  /** Where in the source it came from, for messages: a file name, an etcd key. */
  readonly origin: string;
}

/** An item of a source that could not be taken (a bad manifest file, an unparsable etcd value). */
export interface SourceItemError {
  /** The file name or key, as in `SourcedTask.origin`. */
  readonly origin: string;
  /** The same message the API would give for that input. */
  readonly message: string;
}

export interface SourceSink {
  update(update: SourceUpdate): void;
  /** Replaces the source's list of items it could not take (empty: none). */
  errors(errors: readonly SourceItemError[]): void;
}

import type { NewStateChange, StateChange } from '../api/events.js';
import type { ImageRecord } from '../api/image-record.js';
import type { TaskDefinition, TaskState } from '../api/task.js';

/**
 * Everything one engine step changes, written atomically: the tasks as they now are, the tasks
 * that left the state, and the events that report the change. Either all of it is saved or none.
 */
export interface StateCommit {
  readonly put?: readonly TaskState[];
  readonly remove?: readonly string[];
  readonly events?: readonly NewStateChange[];
}

export interface ImageChange {
  readonly put?: readonly ImageRecord[];
  readonly remove?: readonly string[];
}

export interface EventRetention {
  readonly keepLast: number;
  readonly olderThan: string;
  /**
   * Events with a seq above this are kept whatever `keepLast` and `olderThan` say: a route has not
   * delivered them yet. Absent: nothing is protected.
   */
  readonly keepAfter?: number;
  /** Protected or not, at most this many of the newest events are kept. */
  readonly hardCap?: number;
}

/** One task of one source's saved set (src/sources/): what the source last had applied for that arn. */
export interface SavedSourceTask {
  readonly source: string;
  readonly arn: string;
  /** Where in the source it came from (a file name, an etcd key). */
  readonly origin: string;
  /** Orders claims on one arn across sources: the lowest claim owns it. */
  readonly claim: number;
  readonly definition: TaskDefinition;
}

/** What one step of the source merger changes, written atomically. */
export interface SourceChange {
  readonly put?: readonly SavedSourceTask[];
  readonly remove?: readonly { readonly source: string; readonly arn: string }[];
  readonly revisions?: readonly { readonly source: string; readonly revision: string }[];
}

export interface SavedSources {
  /** Every saved (source, arn), ordered by source then arn. */
  readonly tasks: readonly SavedSourceTask[];
  /** Each source's saved revision, when it has one. */
  readonly revisions: Readonly<Record<string, string>>;
}

/**
 * Durable engine state. Only the SQLite implementation writes SQL; the engine, the fake and the
 * contract suite (test/contract/saver.contract.ts) speak this.
 */
export interface Saver {
  /** Every task, with its containers, as last committed. */
  loadTasks(): Promise<TaskState[]>;
  /** Atomically applies `commit`; returns its events with their assigned, ever-rising `seq`. */
  commit(commit: StateCommit): Promise<StateChange[]>;
  /** Events with `seq > after`, oldest first, at most `limit`. */
  eventsAfter(after: number, limit: number): Promise<StateChange[]>;
  /** The highest `seq` ever assigned (0 when none), even if that event was since pruned. */
  lastSeq(): Promise<number>;
  /** The lowest `seq` still kept, or undefined when no event is kept. */
  oldestSeq(): Promise<number | undefined>;
  /**
   * Applies event retention: keeps at most the newest `keepLast` events and none whose `at` is
   * before `olderThan` (ISO-8601), except those above `keepAfter`; then at most `hardCap` in all.
   * Returns how many were deleted. Never lowers `lastSeq`.
   */
  pruneEvents(policy: EventRetention): Promise<number>;
  /**
   * ARNs of tasks whose rows are kept but could not be loaded (quarantined, or left in place when
   * moving them failed). Their containers are not the agent's to remove.
   */
  unloadedArns(): Promise<string[]>;
  /** Every image record, ordered by `ref`. */
  loadImages(): Promise<ImageRecord[]>;
  /** Inserts or replaces records (by `ref`) and deletes others (an unknown ref is a no-op), atomically. */
  saveImages(change: ImageChange): Promise<void>;
  /** Every source's saved set and revision (src/sources/). */
  loadSources(): Promise<SavedSources>;
  /** Inserts or replaces (by source and arn) and deletes rows, and sets revisions, atomically. */
  saveSources(change: SourceChange): Promise<void>;
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

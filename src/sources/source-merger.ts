import PQueue from 'p-queue';
import type { TaskInput } from '../api/schema.js';
import type { TaskState } from '../api/task.js';
import { EngineClosedError, errorMessage, TaskNotFoundError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { SavedSourceTask, Saver } from '../state/saver.js';
import { RowBatch } from './row-batch.js';
import { SOURCE_ERRORS_KEY_PREFIX } from './saved-sources.js';
import { SourceSets, type Claim } from './source-sets.js';
import { sourceStatuses, type SourceStatus } from './source-status.js';
import type { SourceItemError, SourceSink, SourceUpdate, TaskSource } from './task-source.js';

/** What the merger needs of the engine (TaskEngine has it; tests count calls on a fake). */
export interface EnginePort {
  addTask(input: TaskInput): Promise<{ readonly task: TaskState; readonly created: boolean }>;
  getTask(arn: string): TaskState | undefined;
  /** Records on the task which source owns it and which others claim it too (views, events). */
  recordSources(arn: string, sources: { readonly source: string; readonly conflicts: readonly string[] }): Promise<void>;
}

/** What one pass over an arn did, for the source whose update asked for it (the api's answers). */
export type ArnOutcome =
  | { readonly kind: 'applied'; readonly task: TaskState; readonly created: boolean }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'stopped' }
  /** The arn is owned by another source; the claim waits until the owner drops it. */
  | { readonly kind: 'waiting'; readonly owner: string }
  | { readonly kind: 'error'; readonly error: unknown };

export interface SourceMergerOptions {
  readonly engine: EnginePort;
  readonly saver: Saver;
  readonly log: Logger;
  /** Engine calls in flight at once, across arns. */
  readonly concurrency?: number;
}

interface Pass {
  readonly done: Promise<ArnOutcome>;
  resolve(outcome: ArnOutcome): void;
  /** Sources that asked explicitly (the api's ADD): when one owns the arn, the engine is asked even for the definition it has. */
  readonly forcedBy: Set<string>;
}

/**
 * Keeps each source's set apart, merges them, and drives the engine (README "Task sources").
 *
 * Every update changes the sets at once; each arn it touches is then worked on by one pass at a
 * time: a pass reads the merged state as it is when it runs, so updates that arrive meanwhile
 * coalesce into one next pass (latest wins), and the engine never acts on a stale definition.
 * A pass saves that arn's rows only after the engine took the change, so what is saved is what was
 * applied: a restart neither replays it nor misses it (the source re-delivers what was not saved).
 */
export class SourceMerger {
  private readonly sets = new SourceSets();
  /** The definition (as JSON) and owner the engine was last given for each arn by a pass. */
  private readonly applied = new Map<string, { readonly source: string; readonly json: string }>();
  /** What the saver holds, per arn and source: which rows a pass must write or delete. */
  private readonly saved = new Map<string, Map<string, Claim>>();
  private readonly pending = new Map<string, Pass>();
  private readonly running = new Set<string>();
  /** Per source, per arn: why the engine refused its definition (a changed definition, a full disk). */
  private readonly refused = new Map<string, Map<string, string>>();
  private readonly itemErrors = new Map<string, readonly SourceItemError[]>();
  private readonly revisions = new Map<string, { latest?: string; saved?: string }>();
  private readonly watched = new Map<string, TaskSource>();
  private readonly queue: PQueue;
  private readonly rows: RowBatch;
  private idleWaiters: Array<() => void> = [];
  private state: 'new' | 'started' | 'stopped' = 'new';

  constructor(private readonly opts: SourceMergerOptions) {
    this.queue = new PQueue({ concurrency: opts.concurrency ?? 32 });
    this.rows = new RowBatch(opts.saver);
  }

  /** A source the merger starts and stops (`manifests`, `etcd`); register before `start`. */
  register(source: TaskSource): void {
    if (this.state !== 'new') throw new Error(`source ${source.name} registered after the merger started`);
    this.watched.set(source.name, source);
  }

  isWatched(name: string): boolean {
    return this.watched.has(name);
  }

  /** Loads the saved sets, then starts every registered source from its saved revision. */
  async start(): Promise<void> {
    const saved = await this.opts.saver.loadSources();
    for (const row of saved.tasks) this.loadRow(row);
    for (const [arn, claims] of this.saved) {
      const owner = [...claims.values()].sort((a, b) => a.claim - b.claim)[0];
      if (owner) this.applied.set(arn, { source: owner.source, json: owner.json });
    }
    for (const [name, revision] of Object.entries(saved.revisions)) this.revisions.set(name, { latest: revision, saved: revision });
    this.state = 'started';
    for (const source of this.watched.values()) {
      const revision = this.revisions.get(source.name)?.saved;
      const tasks = this.sets.claimsOf(source.name).map((c) => c.task);
      await source.start(this.sinkFor(source.name), { tasks, ...(revision === undefined ? {} : { revision }) });
    }
    this.opts.log.info('Task sources started', { sources: [...this.watched.keys()], savedTasks: saved.tasks.length });
  }

  /** Stops the watched sources and waits for the passes in flight. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    for (const source of this.watched.values()) await source.stop();
    this.queue.clear();
    await this.queue.onIdle();
    for (const pass of this.pending.values()) pass.resolve({ kind: 'error', error: new Error('task sources are stopping') });
    this.pending.clear();
  }

  /**
   * Applies a pushed source's update (the api's, a PUT's) and resolves, per arn it touched, with
   * what the pass did. The sets change at once; the answer waits for the engine.
   */
  async push(source: string, update: SourceUpdate, options: { force?: boolean } = {}): Promise<Map<string, ArnOutcome>> {
    if (this.state !== 'started') throw new EngineClosedError(this.state === 'new' ? 'starting' : 'stopping');
    const touched = this.apply(source, update, options.force ?? false);
    const entries = await Promise.all([...touched].map(async ([arn, done]) => [arn, this.asSeenBy(source, arn, await done)] as const));
    return new Map(entries);
  }

  /** A claim that another source's ownership holds back is `waiting`, whatever the pass did for the owner. */
  private asSeenBy(source: string, arn: string, outcome: ArnOutcome): ArnOutcome {
    const owner = this.sets.owner(arn)?.source;
    const claims = this.sets.claimants(arn).some((c) => c.source === source);
    return owner !== undefined && owner !== source && claims ? { kind: 'waiting', owner } : outcome;
  }

  /** The sink a watched source delivers to. */
  private sinkFor(name: string): SourceSink {
    return {
      update: (update) => void this.apply(name, update, false),
      errors: (errors) => {
        this.itemErrors.set(name, errors);
        for (const e of errors) this.opts.log.warn('Task source item refused', { source: name, origin: e.origin, error: e.message });
        // Kept for `state dump`, which reads the database without the agent; one small value per source.
        this.opts.saver.setMeta(SOURCE_ERRORS_KEY_PREFIX + name, JSON.stringify(errors)).catch((error: unknown) =>
          this.opts.log.warn('Could not save a task source\'s item errors', { source: name, error: errorMessage(error) }),
        );
      },
    };
  }

  /** Every known source, its set, conflicts and errors (GET /v1/sources, `agent sources`, state dump). */
  statuses(): SourceStatus[] {
    const names = new Set([...this.watched.keys(), ...this.sets.sourceNames(), ...this.itemErrors.keys()]);
    return sourceStatuses([...names].sort(), {
      kind: (name) => (this.watched.has(name) ? 'watched' : 'pushed'),
      revision: (name) => this.revisions.get(name)?.latest,
      claims: (name) => this.sets.claimsOf(name),
      owner: (arn) => this.sets.owner(arn)?.source,
      claimants: (arn) => this.sets.claimants(arn).map((c) => c.source),
      refused: (name, arn) => this.refused.get(name)?.get(arn),
      errors: (name) => this.itemErrors.get(name) ?? [],
    });
  }

  /** Resolves once no pass is pending or running (tests, and the revision save). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.pending.size === 0 && this.running.size === 0;
  }

  private loadRow(row: SavedSourceTask): void {
    const claim = this.sets.load(row);
    let bySource = this.saved.get(row.arn);
    if (!bySource) this.saved.set(row.arn, (bySource = new Map()));
    bySource.set(row.source, claim);
  }

  /** Changes the source's set now; returns the pass each touched arn will get. */
  private apply(source: string, update: SourceUpdate, force: boolean): Map<string, Promise<ArnOutcome>> {
    const touched = new Map<string, Promise<ArnOutcome>>();
    if (this.state !== 'started') return touched;
    const changed = this.sets.apply(source, update);
    if (force && update.op === 'ADD') changed.add(update.task.definition.arn);
    for (const arn of changed) touched.set(arn, this.touch(arn, force ? source : undefined));
    if (update.revision !== undefined) this.revisions.set(source, { ...this.revisions.get(source), latest: update.revision });
    if (this.isIdle()) void this.saveRevisions();
    return touched;
  }

  private touch(arn: string, forcedBy: string | undefined): Promise<ArnOutcome> {
    const waiting = this.pending.get(arn);
    if (waiting) {
      if (forcedBy !== undefined) waiting.forcedBy.add(forcedBy);
      return waiting.done;
    }
    let resolve!: (o: ArnOutcome) => void;
    const done = new Promise<ArnOutcome>((r) => (resolve = r));
    this.pending.set(arn, { done, resolve, forcedBy: new Set(forcedBy === undefined ? [] : [forcedBy]) });
    // One pass per arn at a time: a pass running now picks this one up when it ends. Started on
    // the next turn, so a burst delivered in one go (a rescan, a re-list) is one pass per arn.
    if (!this.running.has(arn)) setImmediate(() => void this.queue.add(() => this.runPass(arn)));
    return done;
  }

  private async runPass(arn: string): Promise<void> {
    const pass = this.pending.get(arn);
    if (!pass || this.state !== 'started') return;
    this.pending.delete(arn);
    this.running.add(arn);
    try {
      // Answered as soon as the engine has answered; the bookkeeping after it does not delay a client.
      pass.resolve(await this.pass(arn, pass.forcedBy, pass.resolve));
    } catch (error) {
      pass.resolve({ kind: 'error', error });
    } finally {
      this.running.delete(arn);
      if (this.pending.has(arn) && this.state === 'started') void this.queue.add(() => this.runPass(arn));
      else if (this.isIdle()) await this.onIdle();
    }
  }

  /** Brings the engine and the saved rows of one arn to the merged state as it is now. */
  private async pass(arn: string, forcedBy: ReadonlySet<string>, answer: (outcome: ArnOutcome) => void): Promise<ArnOutcome> {
    const owner = this.sets.owner(arn);
    const force = owner !== undefined && forcedBy.has(owner.source);
    const before = this.applied.get(arn);
    let outcome: ArnOutcome;
    if (!owner) {
      outcome = before ? await this.stopTask(arn) : { kind: 'unchanged' };
      this.applied.delete(arn);
    } else if (force || before?.json !== owner.json) {
      try {
        const result = await this.opts.engine.addTask({ kind: 'definition', task: owner.task.definition });
        this.applied.set(arn, { source: owner.source, json: owner.json });
        this.clearRefused(arn);
        outcome = { kind: 'applied', task: result.task, created: result.created };
      } catch (error) {
        // Kept as it was: the engine still runs what it had, and the source's status says why.
        this.refuse(owner.source, arn, error);
        return { kind: 'error', error };
      }
    } else {
      this.applied.set(arn, { source: owner.source, json: owner.json });
      this.clearRefused(arn);
      outcome = { kind: 'unchanged' };
    }
    answer(outcome);
    await this.recordOnTask(arn);
    await this.saveRows(arn);
    return outcome;
  }

  private async stopTask(arn: string): Promise<ArnOutcome> {
    try {
      await this.opts.engine.addTask({ kind: 'desired-status', arn, desiredStatus: 'STOPPED' });
      this.opts.log.info('Task left every source: stopping it', { taskArn: arn });
    } catch (error) {
      if (!(error instanceof TaskNotFoundError)) throw error;
    }
    this.clearRefused(arn);
    return { kind: 'stopped' };
  }

  /** Keeps the task's `source` and `conflicts` as the claims now are; writes only on a change. */
  private async recordOnTask(arn: string): Promise<void> {
    const task = this.opts.engine.getTask(arn);
    const owner = this.sets.owner(arn);
    if (!task || !owner) return;
    const conflicts = this.sets.claimants(arn).map((c) => c.source).filter((s) => s !== owner.source);
    if (task.source === owner.source && sameList(task.conflicts ?? [], conflicts)) return;
    if (conflicts.length > 0) this.opts.log.warn('Task claimed by more than one source', { taskArn: arn, owner: owner.source, conflicts });
    await this.opts.engine.recordSources(arn, { source: owner.source, conflicts });
  }

  private async saveRows(arn: string): Promise<void> {
    const current = new Map(this.sets.claimants(arn).map((c) => [c.source, c]));
    const saved = this.saved.get(arn) ?? new Map<string, Claim>();
    const change: { put: SavedSourceTask[]; remove: { source: string; arn: string }[] } = { put: [], remove: [] };
    for (const [source, claim] of current) {
      const was = saved.get(source);
      if (!was || was.json !== claim.json || was.claim !== claim.claim || was.task.origin !== claim.task.origin) {
        change.put.push({ source, arn, origin: claim.task.origin, claim: claim.claim, definition: claim.task.definition });
      }
    }
    for (const source of saved.keys()) if (!current.has(source)) change.remove.push({ source, arn });
    if (change.put.length === 0 && change.remove.length === 0) return;
    try {
      await this.rows.save(change);
    } catch (error) {
      // The engine has the change; the rows follow at this arn's next pass or the source's next re-delivery.
      this.opts.log.warn('Could not save a task source row', { taskArn: arn, error: errorMessage(error) });
      return;
    }
    if (current.size === 0) this.saved.delete(arn);
    else this.saved.set(arn, current);
  }

  private refuse(source: string, arn: string, error: unknown): void {
    let bySource = this.refused.get(source);
    if (!bySource) this.refused.set(source, (bySource = new Map()));
    bySource.set(arn, errorMessage(error));
    this.opts.log.warn('Engine refused a task from a source', { source, taskArn: arn, error: errorMessage(error) });
  }

  private clearRefused(arn: string): void {
    for (const bySource of this.refused.values()) bySource.delete(arn);
  }

  private async onIdle(): Promise<void> {
    await this.saveRevisions();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * A revision is saved only once every pass before it is done, so the saved revision never runs
   * ahead of the saved rows; a restart may re-read a little, which the rows make a no-op.
   */
  private async saveRevisions(): Promise<void> {
    const revisions = [...this.revisions].flatMap(([source, r]) => (r.latest !== undefined && r.latest !== r.saved ? [{ source, revision: r.latest }] : []));
    if (revisions.length === 0) return;
    try {
      await this.rows.save({ revisions });
      for (const { source, revision } of revisions) this.revisions.set(source, { ...this.revisions.get(source), saved: revision });
    } catch (error) {
      this.opts.log.warn('Could not save task source revisions', { error: errorMessage(error) });
    }
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

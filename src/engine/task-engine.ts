import PQueue from 'p-queue';
import type { StateChange } from '../api/events.js';
import { ownerOf, ownershipFilter } from '../api/labels.js';
import type { TaskInput } from '../api/schema.js';
import { statusRank, type ContainerStatus } from '../api/status.js';
import { generationOf, type ImagePullBehavior, type TaskState } from '../api/task.js';
import { isSameDefinition } from './drift/definition-change.js';
import { nextGeneration } from './drift/next-generation.js';
import type { DockerClient, DockerEvent, NetworkEvent } from '../docker/docker-client.js';
import type { CredentialsFor } from '../docker/registry-auth/registry-credentials.js';
import { EngineClosedError, TaskNotFoundError, errorMessage } from '../errors.js';
import type { Reason } from '../api/reasons.js';
import { markDrift } from './drift/drift.js';
import type { Logger } from '../log/logger.js';
import type { Saver } from '../state/saver.js';
import type { BackoffPolicy } from '../util/backoff.js';
import type { Clock, Random } from '../util/clock.js';
import { Admission } from './admission/admission.js';
import { UNBOUNDED, type HostCapacity } from './admission/host-resources.js';
import { DockerEventWatcher } from './docker-event-watcher.js';
import { Executor, type TransitionObserver } from './executor.js';
import type { RetryPolicy } from './retry-policy.js';
import { StateStore, type ChangeListener, type CommitListener, type WriteFailure } from './state-store.js';
import { TaskReconciler } from './task-reconciler.js';
import { newTaskState, raiseDesired } from './task-state.js';
import { PullProgressHub, type ProgressListener } from './pull-progress.js';
import { Relister, type RelistPolicy } from './relister.js';
import { ImageRecords } from './images/image-records.js';
import { ImageCleaner, type ImageCleanupPolicy } from './image-cleanup/image-cleaner.js';
import type { PullRetryPolicy } from './image-puller.js';
import { MetadataFiles } from './metadata/metadata-files.js';
import type { MetadataIo } from './metadata/metadata-io.js';
import { ServicesIndex } from '../services/services-index.js';

export interface TaskEngineOptions {
  readonly docker: DockerClient;
  readonly saver: Saver;
  readonly agentId: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly concurrency: number;
  /** Docker pulls at once, across tasks; pulls of one image are shared and count once. */
  readonly maxConcurrentPulls: number;
  /** Pull behaviour, retries and timeouts (README "Image pulls"). */
  readonly pulls: PullSettings;
  readonly cleanupWaitMs: number;
  readonly retry: RetryPolicy;
  readonly eventStreamBackoff: BackoffPolicy;
  /** Told of every action and every event-stream reconnect (metrics). */
  readonly observer?: EngineObserver;
  /** Periodic comparison of the records with Docker's list; absent: events alone (unit tests). */
  readonly relist?: RelistPolicy;
  /** Registry credentials for each pull (from the docker config); absent: anonymous pulls. */
  readonly registryCredentials?: CredentialsFor;
  /** CPU and memory tasks may reserve (src/engine/admission/); absent: unbounded, static ports alone count. */
  readonly capacity?: HostCapacity;
  /** Periodic removal of tracked images no task uses; absent: images are never removed. */
  readonly imageCleanup?: ImageCleanupPolicy;
  /** Each container's metadata file (--container-metadata, README "Container metadata file"); absent: none. */
  readonly containerMetadata?: ContainerMetadataSettings;
  /** --recreate-on-drift: a container changed behind the agent's back is made anew; absent: only reported. */
  readonly recreateOnDrift?: boolean;
}

export interface ContainerMetadataSettings {
  /** Host directory of the files (`<data dir>/metadata`). */
  readonly root: string;
  /** The agent's cluster name, the files' `Cluster`. */
  readonly cluster: string;
  /** The file operations; absent: the disk's (tests give failing ones). */
  readonly io?: MetadataIo;
}

export interface PullSettings extends PullRetryPolicy {
  /** The agent's pull behaviour; a container's `imagePullBehavior` overrides it. */
  readonly behavior: ImagePullBehavior;
}

export interface EngineObserver extends TransitionObserver {
  eventStreamReconnect(): void;
  imageRemoved?(): void;
  /** A container was found drifted (src/engine/drift/). */
  containerDrifted?(): void;
}

export interface AddTaskResult {
  readonly task: TaskState;
  /** True when the task was new; false when an existing task was updated or left as it was. */
  readonly created: boolean;
}

/** Docker events that mean a container's state may have changed. */
const STATE_EVENTS: ReadonlySet<string> = new Set(['start', 'die', 'kill', 'oom', 'stop', 'destroy', 'health_status']);

/**
 * Drives every task toward its desired status. Owns the state store (memory + saver), one
 * reconciler per task sharing a bounded queue, and the Docker event watcher.
 *
 * Lifecycle: `new` → `start()` (loads saved state, re-reads every container from Docker, resumes)
 * → `addTask()` … → `close()` (stops accepting work and drains what is in flight).
 */
export class TaskEngine {
  private readonly store: StateStore;
  /** The reconcile slots: short plan steps. */
  private readonly queue: PQueue;
  /** Short Docker calls in flight, across tasks. */
  private readonly calls: PQueue;
  /** Actions launched and not yet recorded. */
  private activeActions = 0;
  private readonly executor: Executor;
  private readonly watcher: DockerEventWatcher<DockerEvent>;
  /** Network connects and disconnects: a container's addresses change without a container event. */
  private readonly networkWatcher: DockerEventWatcher<NetworkEvent>;
  private readonly reconcilers = new Map<string, TaskReconciler>();
  private readonly progress = new PullProgressHub();
  private readonly relister: Relister | undefined;
  private readonly admission: Admission;
  private readonly imageCleaner: ImageCleaner | undefined;
  private readonly metadata: MetadataFiles | undefined;
  /** What the agent remembers of the images its tasks use (pulls and creates write it, cleanup reads it). */
  readonly imageRecords: ImageRecords;
  /** The running containers as services (GET /v1/services), kept from every saved task value. */
  readonly services = new ServicesIndex();
  private state: 'new' | 'started' | 'closing' | 'closed' = 'new';
  private lastPassAt: number | undefined;
  /** Tasks the saver holds but could not load; the relist leaves their containers alone. */
  private unloaded: ReadonlySet<string> = new Set();

  constructor(private readonly opts: TaskEngineOptions) {
    this.store = new StateStore(opts.saver, opts.clock, opts.log);
    this.imageRecords = new ImageRecords(opts.saver, opts.log);
    this.store.onCommit((arn, task) => this.services.update(arn, task));
    this.queue = new PQueue({ concurrency: opts.concurrency });
    this.calls = new PQueue({ concurrency: opts.concurrency });
    this.queue.on('idle', () => this.notePass());
    this.admission = new Admission({
      store: this.store,
      capacity: opts.capacity ?? UNBOUNDED,
      clock: opts.clock,
      log: opts.log,
      retryMs: opts.retry.backoff.maxMs,
      onAdmitted: (arn) => {
        if (this.state === 'started') this.reconcilerFor(arn).trigger();
      },
    });
    const { behavior, ...policy } = opts.pulls;
    const pulls = { maxConcurrent: opts.maxConcurrentPulls, behavior, policy, records: this.imageRecords, clock: opts.clock, random: opts.random };
    this.metadata = opts.containerMetadata && new MetadataFiles({ ...opts.containerMetadata, log: opts.log });
    if (this.metadata) {
      const files = this.metadata;
      this.store.onCommit((arn, task) => files.observe(arn, task));
    }
    this.executor = new Executor(opts.docker, opts.agentId, opts.log, pulls, this.progress, opts.observer, opts.registryCredentials, this.metadata);
    const labels = ownershipFilter(opts.agentId);
    const reconnected = (): void => {
      opts.observer?.eventStreamReconnect();
      this.refreshAll();
    };
    const watching = { clock: opts.clock, random: opts.random, backoff: opts.eventStreamBackoff, log: opts.log };
    this.watcher = new DockerEventWatcher(
      (o) => opts.docker.containerEvents({ ...o, labels }),
      { onEvent: (e) => this.onDockerEvent(e), onReconnect: reconnected },
      watching,
    );
    this.networkWatcher = new DockerEventWatcher(
      (o) => opts.docker.networkEvents(o),
      { onEvent: (e) => this.onNetworkEvent(e), onReconnect: reconnected },
      { ...watching, stream: 'network' },
    );
    this.relister =
      opts.relist &&
      new Relister(
        opts.docker,
        opts.agentId,
        {
          tasks: () => this.store.list(),
          unloaded: () => this.unloaded,
          refresh: (arn, container) => this.refresh({ arn, container }),
          drifted: (arn, container, why) => void this.markDrifted(arn, container, why),
        },
        { clock: opts.clock, policy: opts.relist, log: opts.log },
      );
    this.imageCleaner =
      opts.imageCleanup &&
      new ImageCleaner(
        opts.docker,
        this.imageRecords,
        { tasks: () => this.store.list(), isPulling: (ref) => this.executor.isPulling(ref), onRemoved: () => opts.observer?.imageRemoved?.() },
        { clock: opts.clock, policy: opts.imageCleanup, log: opts.log },
      );
  }

  /** Loads saved tasks and resumes them; every container that may exist in Docker is re-read first. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`engine cannot start from state ${this.state}`);
    const tasks = await this.store.load();
    this.services.load(tasks);
    await this.imageRecords.load();
    this.unloaded = new Set(await this.opts.saver.unloadedArns());
    await this.metadata?.start(tasks, this.unloaded);
    this.state = 'started';
    this.admission.start(tasks);
    this.watcher.start();
    this.networkWatcher.start();
    this.relister?.start();
    this.imageCleaner?.start();
    for (const task of tasks) {
      const r = this.reconcilerFor(task.arn);
      for (const c of task.containers) {
        // PULLED too: a crash between create and saving its ID leaves a container findable by name.
        if (c.dockerId || statusRank(c.knownStatus) >= statusRank('PULLED')) r.markForRefresh(c.definition.name);
      }
      r.trigger();
    }
    this.opts.log.info('Task engine started', { tasks: tasks.length, agentId: this.opts.agentId });
  }

  /**
   * Accepts a new task, raises the desired status of a known one, or, for a different definition
   * under a known ARN, starts its next generation (src/engine/drift/): only the containers whose
   * definition changed are made anew. Resolves once the change is saved. Within one generation a
   * lower desired status is ignored (desired statuses only rise).
   */
  async addTask(input: TaskInput): Promise<AddTaskResult> {
    if (this.state !== 'started') throw new EngineClosedError(this.state === 'new' ? 'starting' : 'stopping');
    const arn = input.kind === 'definition' ? input.task.arn : input.arn;
    let created = false;
    let placed: TaskState | undefined;
    const mutation = this.store.mutate(arn, (current) => {
      if (!current) {
        if (input.kind !== 'definition') throw new TaskNotFoundError(arn);
        this.admission.checkAdmissible({ settings: input.task, definitions: input.task.containers });
        placed = this.admission.place(newTaskState(input.task, this.opts.clock.now(), this.opts.agentId));
        created = true;
        return placed;
      }
      if (input.kind === 'definition' && !isSameDefinition(current, input.task)) {
        this.admission.checkAdmissible({ settings: input.task, definitions: input.task.containers });
        return nextGeneration(current, input.task, this.opts.clock.now(), this.opts.agentId);
      }
      const desired = input.kind === 'definition' ? input.task.desiredStatus : input.desiredStatus;
      return raiseDesired(current, desired, this.opts.clock.now());
    });
    const result = await mutation.finally(() => {
      if (placed) this.admission.settled(placed, this.store.get(arn) !== undefined);
    });
    const task = result.after!;
    if (created) this.opts.log.info('Task added', { taskArn: arn, desiredStatus: task.desiredStatus });
    else if (result.before && generationOf(result.before) !== generationOf(task)) {
      this.opts.log.info('Task definition changed: new generation', { taskArn: arn, generation: generationOf(task), desiredStatus: task.desiredStatus });
    } else if (result.before !== result.after) this.opts.log.info('Task desired status raised', { taskArn: arn, desiredStatus: task.desiredStatus });
    if (result.before !== result.after) {
      // A stop request takes a waiting task out of the queue: the one behind it may fit now.
      if (result.before?.waiting) this.admission.schedulePass();
      this.reconcilerFor(arn).trigger();
    }
    return { task, created };
  }

  /**
   * Records which task source owns the task and which others claim it too (src/sources/), for
   * views and events; nothing is reconciled. An unknown arn is a no-op.
   */
  async recordSources(arn: string, sources: { readonly source: string; readonly conflicts: readonly string[] }): Promise<void> {
    if (this.state !== 'started') throw new EngineClosedError(this.state === 'new' ? 'starting' : 'stopping');
    await this.store.mutate(arn, (current) => {
      if (!current) return undefined;
      const { conflicts: _was, ...rest } = current;
      return { ...rest, source: sources.source, ...(sources.conflicts.length > 0 ? { conflicts: sources.conflicts } : {}) };
    });
  }

  listTasks(): TaskState[] {
    return this.store.list();
  }

  /** How many tasks and containers are at each known status (for metrics). */
  countByStatus(): { tasks: Record<ContainerStatus, number>; containers: Record<ContainerStatus, number> } {
    const zero = (): Record<ContainerStatus, number> => ({ NONE: 0, PULLED: 0, CREATED: 0, RUNNING: 0, STOPPED: 0 });
    const counts = { tasks: zero(), containers: zero() };
    for (const t of this.store.list()) {
      counts.tasks[t.knownStatus] += 1;
      for (const c of t.containers) counts.containers[c.knownStatus] += 1;
    }
    return counts;
  }

  getTask(arn: string): TaskState | undefined {
    return this.store.get(arn);
  }

  /** The task owning a Docker container, by full ID or a prefix of at least 12 characters. */
  findTaskByDockerId(id: string): TaskState | undefined {
    const owner = this.store.findByDockerId(id);
    return owner ? this.store.get(owner.arn) : undefined;
  }

  /**
   * Every task value once saved, including its removal (undefined) and changes without an event;
   * called synchronously, so a listener only notes what changed. Returns the unsubscribe function.
   */
  onCommit(listener: CommitListener): () => void {
    return this.store.onCommit(listener);
  }

  /** Every state change, as it is saved, in `seq` order. Returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void {
    return this.store.subscribe(listener);
  }

  /** Events after `after` from the durable feed, up to the last one whose state is visible. */
  async eventsAfter(after: number, limit: number): Promise<StateChange[]> {
    const published = this.store.publishedSeq();
    const events = await this.opts.saver.eventsAfter(after, limit);
    return events.filter((e) => e.seq <= published);
  }

  /** The lowest seq the feed still keeps (retention prunes older ones), if any. */
  oldestEventSeq(): Promise<number | undefined> {
    return this.opts.saver.oldestSeq();
  }

  /** The seq of the newest event whose state is visible in `listTasks`/`getTask`. */
  lastEventSeq(): number {
    return this.store.publishedSeq();
  }

  /** Live image-pull progress of every container; transient, never saved. */
  onPullProgress(listener: ProgressListener): () => void {
    return this.progress.subscribe(listener);
  }

  /** When the engine last had nothing planned or running (epoch ms), for health reporting. */
  lastReconcilePassAt(): number | undefined {
    return this.caughtUp() ? (this.lastPassAt ?? this.opts.clock.now()) : this.lastPassAt;
  }

  private caughtUp(): boolean {
    return this.queue.size === 0 && this.queue.pending === 0 && this.activeActions === 0;
  }

  private notePass(): void {
    if (this.caughtUp()) this.lastPassAt = this.opts.clock.now();
  }

  /** Since when, and why, the state database refuses writes (Docker actions are paused meanwhile). */
  writeFailure(): WriteFailure | undefined {
    return this.store.writeFailure();
  }

  /** Whether the database takes writes now: after a failure, one probe write decides. */
  writable(): Promise<boolean> {
    return this.store.writable();
  }

  /** Saves one meta value through the store, so a failure shows in write health. */
  recordMeta(key: string, value: string): Promise<void> {
    return this.store.setMeta(key, value);
  }

  /** Resolves once no reconcile step is queued or running and no action is in flight (the agent has caught up). */
  async idle(): Promise<void> {
    do {
      await this.queue.onIdle();
      await Promise.all([...this.reconcilers.values()].map((r) => r.settled()));
    } while (!this.caughtUp());
    await this.metadata?.idle();
  }

  /** Stops accepting work, stops watching Docker, and waits for in-flight steps to finish. */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.state = 'closing';
    this.admission.close();
    for (const r of this.reconcilers.values()) r.close();
    this.queue.clear();
    await this.relister?.stop();
    await this.imageCleaner?.stop();
    await this.watcher.stop();
    await this.networkWatcher.stop();
    await this.queue.onIdle();
    await Promise.all([...this.reconcilers.values()].map((r) => r.settled()));
    await this.imageRecords.flush();
    await this.metadata?.idle();
    this.state = 'closed';
    this.opts.log.info('Task engine closed');
  }

  private reconcilerFor(arn: string): TaskReconciler {
    let r = this.reconcilers.get(arn);
    if (!r) {
      r = new TaskReconciler(arn, {
        store: this.store,
        executor: this.executor,
        queue: this.queue,
        calls: this.calls,
        onActivity: (delta) => {
          this.activeActions += delta;
          if (delta < 0) this.notePass();
        },
        clock: this.opts.clock,
        random: this.opts.random,
        retry: this.opts.retry,
        cleanupWaitMs: this.opts.cleanupWaitMs,
        recreateOnDrift: this.opts.recreateOnDrift ?? false,
        onDrift: () => this.opts.observer?.containerDrifted?.(),
        log: this.opts.log,
        onForgotten: (gone) => {
          this.reconcilers.delete(gone);
          this.opts.log.info('Task removed from state', { taskArn: gone });
        },
      });
      this.reconcilers.set(arn, r);
    }
    return r;
  }

  private onDockerEvent(event: DockerEvent): void {
    if (!STATE_EVENTS.has(event.action) || this.state !== 'started') return;
    const owner = this.store.findByDockerId(event.dockerId) ?? this.ownerByLabels(event);
    if (!owner) return;
    this.opts.log.debug('Docker event', { taskArn: owner.arn, container: owner.container, dockerId: event.dockerId, action: event.action });
    this.refresh(owner);
  }

  /**
   * A container of ours joined or left a network: re-read it, so its addresses in the state (the
   * services view, template variables, metadata file) follow. Other containers' events are ignored.
   */
  private onNetworkEvent(event: NetworkEvent): void {
    if (this.state !== 'started') return;
    const owner = this.store.findByDockerId(event.dockerId);
    if (!owner) return;
    this.opts.log.debug('Docker network event', { taskArn: owner.arn, container: owner.container, dockerId: event.dockerId, action: event.action, network: event.network });
    this.refresh(owner);
  }

  /** Something says Docker's view of this container changed: its reconciler re-reads it. */
  private refresh(owner: { arn: string; container: string }): void {
    if (this.state !== 'started') return;
    const r = this.reconcilerFor(owner.arn);
    r.markForRefresh(owner.container);
    r.trigger();
  }

  /** A drift found by the relist (a re-tagged image): recorded and logged; the reconciler recreates it with --recreate-on-drift. */
  private async markDrifted(arn: string, container: string, why: Reason): Promise<void> {
    if (this.state !== 'started') return;
    try {
      const saved = await this.store.mutate(arn, (t) => (t ? markDrift(t, container, why, this.opts.clock.now()) : undefined));
      if (saved.before === saved.after) return;
      this.opts.log.warn('Container drifted in Docker', { taskArn: arn, container, reason: why.code, detail: why.message, recreating: this.opts.recreateOnDrift ?? false });
      this.opts.observer?.containerDrifted?.();
      this.reconcilerFor(arn).trigger();
    } catch (error) {
      this.opts.log.warn('Failed to record a drift; the next relist finds it again', { taskArn: arn, container, error: errorMessage(error) });
    }
  }

  /** A container whose ID is not saved yet (its create is still in flight) is found by its labels. */
  private ownerByLabels(event: DockerEvent): { arn: string; container: string } | undefined {
    const owner = ownerOf(event.labels, this.opts.agentId);
    const task = owner && this.store.get(owner.taskArn);
    if (!owner || !task) return undefined;
    // An old instance being retired: its stop and removal are the agent's own, and say nothing about the new one.
    if (task.retiring?.some((r) => r.dockerId === event.dockerId)) return undefined;
    return { arn: owner.taskArn, container: owner.containerName };
  }

  /** After the event stream was broken, nothing seen before can be trusted: re-read every live container. */
  private refreshAll(): void {
    if (this.state !== 'started') return;
    for (const task of this.store.list()) {
      const r = this.reconcilerFor(task.arn);
      for (const c of task.containers) {
        if (c.knownStatus !== 'STOPPED' && (c.dockerId || c.knownStatus === 'PULLED')) r.markForRefresh(c.definition.name);
      }
      r.trigger();
    }
  }
}

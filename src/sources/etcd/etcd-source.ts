import type { ParseOptions } from '../../api/schema.js';
import { EtcdCompactedError, errorMessage } from '../../errors.js';
import type { EtcdClient, EtcdKv, EtcdWatch, WatchEvent } from '../../fleet/etcd-client.js';
import type { EtcdLink } from '../../fleet/etcd-link.js';
import { tasksPrefix } from '../../fleet/keys.js';
import type { Logger } from '../../log/logger.js';
import { backoffDelay, type BackoffPolicy } from '../../util/backoff.js';
import type { Clock, Random, TimerHandle } from '../../util/clock.js';
import { parseTaskValue } from './etcd-value.js';
import type { SourceItemError, SourceSink, SourcedTask, TaskSource } from '../task-source.js';

export interface EtcdSourceOptions {
  readonly client: EtcdClient;
  /** `--etcd-prefix`. */
  readonly prefix: string;
  /** `--host-name` (default the agent ID): whose tasks/ keys this agent runs. */
  readonly host: string;
  /** What the agent's settings allow in a task, as for the API. */
  readonly parse: ParseOptions;
  readonly clock: Clock;
  readonly random: Random;
  /** Waiting before a re-list or a resumed watch after etcd failed. */
  readonly backoff: BackoffPolicy;
  readonly log: Logger;
  readonly link?: EtcdLink;
}

/**
 * The `etcd` task source (kube-proxy's etcd config source): one task per key under
 * `<prefix>/hosts/<host>/tasks/`.
 *
 * It lists the prefix (a SET at the listed revision), then watches from the next revision: a put is
 * an ADD, a delete a REMOVE, each carrying its revision. A broken watch resumes after the last
 * revision it delivered, so nothing is replayed or missed; a compacted one re-lists (a SET). A start
 * with a saved revision still lists: the merger makes a SET of the same set a no-op.
 *
 * A value that does not parse is reported through `sink.errors`, naming its key with the API's
 * message; a key whose value turns bad keeps its last good task (as a manifest file does).
 */
export class EtcdSource implements TaskSource {
  readonly name = 'etcd';
  private readonly keyPrefix: string;
  private sink: SourceSink | undefined;
  /** The task each key last held that parsed: deletes and arn changes are REMOVEs of it. */
  private readonly good = new Map<string, SourcedTask>();
  private readonly bad = new Map<string, string>();
  private revision = 0;
  private watch: EtcdWatch | undefined;
  private timer: TimerHandle | undefined;
  private failures = 0;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly opts: EtcdSourceOptions) {
    this.keyPrefix = tasksPrefix(opts.prefix, opts.host);
    this.log = opts.log.child({ source: 'etcd', prefix: this.keyPrefix });
  }

  /** The revision the source has delivered up to (what the merger saves). */
  lastRevision(): number {
    return this.revision;
  }

  async start(sink: SourceSink, _saved: { readonly revision?: string }): Promise<void> {
    // The saved revision is not a shortcut: a list is always taken first (see the class comment).
    this.sink = sink;
    this.stopped = false;
    await this.list();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.cancel();
    this.watch = undefined;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async list(): Promise<void> {
    if (this.stopped) return;
    let listed: { kvs: readonly EtcdKv[]; revision: number };
    try {
      listed = await this.opts.client.range(this.keyPrefix);
    } catch (error) {
      this.failed('list', error, () => void this.list());
      return;
    }
    if (this.stopped) return;
    this.succeeded();
    const seen = new Set<string>();
    for (const kv of listed.kvs) {
      seen.add(kv.key);
      this.take(kv);
    }
    for (const key of [...this.good.keys()]) if (!seen.has(key)) this.good.delete(key);
    for (const key of [...this.bad.keys()]) if (!seen.has(key)) this.bad.delete(key);
    this.revision = listed.revision;
    this.sink!.update({ op: 'SET', tasks: [...this.good.values()], revision: String(listed.revision) });
    this.sink!.errors(this.errorList());
    this.log.info('Listed etcd tasks', { tasks: this.good.size, invalid: this.bad.size, revision: listed.revision });
    this.startWatch();
  }

  private startWatch(): void {
    if (this.stopped) return;
    this.watch = this.opts.client.watch(this.keyPrefix, this.revision + 1, {
      onEvents: (events) => this.onEvents(events),
      onError: (error) => {
        this.watch = undefined;
        if (this.stopped) return;
        if (error instanceof EtcdCompactedError) {
          this.log.warn('etcd compacted past the watched revision; listing again', { revision: this.revision, compactRevision: error.compactRevision });
          void this.list();
          return;
        }
        this.failed('watch', error, () => this.startWatch());
      },
    });
  }

  private onEvents(events: readonly WatchEvent[]): void {
    if (this.stopped) return;
    this.succeeded();
    let errorsChanged = false;
    for (const event of events) {
      const revision = event.type === 'put' ? event.kv.modRevision : event.modRevision;
      if (revision <= this.revision) continue;
      this.revision = revision;
      if (event.type === 'put') {
        const before = this.good.get(event.kv.key);
        const hadError = this.bad.has(event.kv.key);
        const task = this.take(event.kv);
        errorsChanged ||= hadError || this.bad.has(event.kv.key);
        if (!task) continue;
        if (before && before.definition.arn !== task.definition.arn) this.sink!.update({ op: 'REMOVE', arn: before.definition.arn, revision: String(revision) });
        this.sink!.update({ op: 'ADD', task, revision: String(revision) });
      } else {
        const before = this.good.get(event.key);
        this.good.delete(event.key);
        errorsChanged ||= this.bad.delete(event.key);
        if (before) this.sink!.update({ op: 'REMOVE', arn: before.definition.arn, revision: String(revision) });
      }
    }
    if (errorsChanged) this.sink!.errors(this.errorList());
  }

  /** Parses one key's value; a good one replaces the key's task, a bad one leaves the last good task. */
  private take(kv: EtcdKv): SourcedTask | undefined {
    const parsed = parseTaskValue(kv.value, this.opts.parse);
    if ('error' in parsed) {
      this.bad.set(kv.key, parsed.error);
      this.log.warn('Invalid task in etcd', { key: kv.key, error: parsed.error });
      return undefined;
    }
    this.bad.delete(kv.key);
    const task: SourcedTask = { definition: parsed.task, origin: kv.key };
    this.good.set(kv.key, task);
    return task;
  }

  private errorList(): SourceItemError[] {
    return [...this.bad].map(([origin, message]) => ({ origin, message }));
  }

  private failed(what: string, error: unknown, retry: () => void): void {
    this.opts.link?.failed(error);
    const delay = backoffDelay(this.opts.backoff, this.failures++, this.opts.random);
    this.log.warn(`etcd ${what} failed; retrying`, { error: errorMessage(error), retryInMs: delay, revision: this.revision });
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) retry();
    }, delay);
  }

  private succeeded(): void {
    this.failures = 0;
    this.opts.link?.ok();
  }
}

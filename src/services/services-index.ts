import { isDeepStrictEqual } from 'node:util';
import type { TaskState } from '../api/task.js';
import { servicesOf, type Service } from './service-of.js';

/** One record of the watch: Datadog's `Listen(newSvc, delSvc)` as one stream. */
export interface ServiceRecord {
  readonly type: 'added' | 'removed';
  readonly service: Service;
}

export type ServiceListener = (record: ServiceRecord) => void;

/**
 * Every running service, kept from the saved state (never re-read per request): seeded once from
 * what was loaded, then fed each task value the store saves. A service whose facts change is
 * removed and added again, as Datadog's listeners report it; one whose facts stay is not reported,
 * so re-reads that find nothing new (an agent's restart) cause no records.
 */
export class ServicesIndex {
  private readonly byTask = new Map<string, ReadonlyMap<string, Service>>();
  private readonly listeners = new Set<ServiceListener>();
  private sorted: Service[] | undefined;
  private body: Buffer | undefined;

  /** The services of the tasks loaded at start, before anyone watches. */
  load(tasks: readonly TaskState[]): void {
    for (const t of tasks) this.set(t.arn, servicesOf(t));
  }

  /** A task's saved value (undefined: it left the state); tells watchers what changed. */
  update(arn: string, task: TaskState | undefined): void {
    const before = this.byTask.get(arn) ?? new Map<string, Service>();
    const now = task ? servicesOf(task) : [];
    const after = new Map(now.map((s) => [s.id, s]));
    const removed = [...before.values()].filter((s) => !isDeepStrictEqual(after.get(s.id), s));
    const added = now.filter((s) => !isDeepStrictEqual(before.get(s.id), s));
    if (removed.length === 0 && added.length === 0) return;
    this.set(arn, now);
    for (const service of removed) this.tell({ type: 'removed', service });
    for (const service of added) this.tell({ type: 'added', service });
  }

  /** Every service, by id. */
  list(): readonly Service[] {
    this.sorted ??= [...this.byTask.values()].flatMap((m) => [...m.values()]).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return this.sorted;
  }

  /**
   * `{"services":[…]}` as UTF-8 JSON, made once per change rather than per request: at a thousand
   * services, serialising is most of an answer's cost (README "Performance").
   */
  listJson(): Buffer {
    this.body ??= Buffer.from(JSON.stringify({ services: this.list() }));
    return this.body;
  }

  /**
   * The services now and, from the same instant, every record after them: nothing happens between
   * the snapshot and the subscription. Returns the unsubscribe function.
   */
  watch(listener: ServiceListener): { current: readonly Service[]; unsubscribe: () => void } {
    this.listeners.add(listener);
    return { current: this.list(), unsubscribe: () => this.listeners.delete(listener) };
  }

  private set(arn: string, services: readonly Service[]): void {
    if (services.length === 0) this.byTask.delete(arn);
    else this.byTask.set(arn, new Map(services.map((s) => [s.id, s])));
    this.sorted = undefined;
    this.body = undefined;
  }

  private tell(record: ServiceRecord): void {
    for (const l of [...this.listeners]) {
      try {
        l(record);
      } catch {
        // A watcher's failure is its own (a client that went away); the index stays as it is.
      }
    }
  }
}

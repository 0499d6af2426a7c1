import { watch, type FSWatcher } from 'node:fs';
import type { ParseOptions } from '../api/schema.js';
import type { ManifestsConfig } from '../config/config.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { listManifests, manifestSet, readManifest, type FileRead } from './manifest-files.js';
import type { SourcedTask, SourceItemError, SourceSink, TaskSource } from './task-source.js';

export const MANIFESTS_SOURCE = 'manifests';

export interface ManifestsSourceOptions extends ManifestsConfig {
  readonly parse: ParseOptions;
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * The `manifests` source: a directory where each `*.json` / `*.yaml` / `*.yml` file is one task.
 * Every scan is a SET of the whole directory. The directory is watched; a change is rescanned after
 * a short quiet (so a burst of writes is one scan), and a periodic rescan catches what the watch
 * misses. Scans never overlap: one asked for during a scan runs once after it.
 */
export class ManifestsSource implements TaskSource {
  readonly name = MANIFESTS_SOURCE;
  private sink: SourceSink | undefined;
  private watcher: FSWatcher | undefined;
  private debounce: TimerHandle | undefined;
  private periodic: TimerHandle | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly lastGood = new Map<string, SourcedTask>();
  private lastErrors = '[]';

  constructor(private readonly opts: ManifestsSourceOptions) {}

  async start(sink: SourceSink, saved: { readonly tasks?: readonly SourcedTask[] }): Promise<void> {
    this.sink = sink;
    // A file that is invalid at start keeps the task it last gave, as it would without the restart.
    for (const task of saved.tasks ?? []) this.lastGood.set(task.origin, task);
    await this.scan();
    try {
      this.watcher = watch(this.opts.dir, { persistent: false }, () => this.changed());
      this.watcher.on('error', (error) => this.opts.log.warn('Manifest directory watch failed; the periodic rescan carries on', { dir: this.opts.dir, error: errorMessage(error) }));
    } catch (error) {
      this.opts.log.warn('Cannot watch the manifest directory; it is rescanned periodically', { dir: this.opts.dir, error: errorMessage(error) });
    }
    this.schedulePeriodic();
    this.opts.log.info('Watching manifest directory', { dir: this.opts.dir, tasks: this.lastGood.size });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    if (this.debounce) this.opts.clock.clearTimeout(this.debounce);
    if (this.periodic) this.opts.clock.clearTimeout(this.periodic);
    await this.scanning;
  }

  /** Scans now (or once more after the scan in progress); resolves when that scan is delivered. */
  async scan(): Promise<void> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.again = false;
        await this.scanOnce();
      } while (this.again && !this.stopped);
    })().finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  private changed(): void {
    if (this.stopped) return;
    if (this.debounce) this.opts.clock.clearTimeout(this.debounce);
    this.debounce = this.opts.clock.setTimeout(() => void this.scan(), this.opts.debounceMs);
  }

  private schedulePeriodic(): void {
    if (this.stopped) return;
    this.periodic = this.opts.clock.setTimeout(() => {
      void this.scan().finally(() => this.schedulePeriodic());
    }, this.opts.rescanIntervalMs);
    this.periodic.unref?.();
  }

  private async scanOnce(): Promise<void> {
    let files: string[];
    try {
      files = await listManifests(this.opts.dir);
    } catch (error) {
      // The directory itself is unreadable: nothing is known to be gone, so nothing is removed.
      this.report([{ origin: '.', message: `cannot list ${this.opts.dir}: ${errorMessage(error)}` }]);
      return;
    }
    const reads = new Map<string, FileRead>();
    for (const file of files) reads.set(file, await readManifest(this.opts.dir, file, this.opts.parse));
    if (this.stopped) return;
    const { tasks, errors } = manifestSet(reads, this.lastGood);
    this.sink?.update({ op: 'SET', tasks });
    this.report(errors);
  }

  private report(errors: SourceItemError[]): void {
    const text = JSON.stringify(errors);
    if (text === this.lastErrors) return;
    this.lastErrors = text;
    this.sink?.errors(errors);
  }
}

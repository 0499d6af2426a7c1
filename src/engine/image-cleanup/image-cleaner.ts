import type { ImageRecord } from '../../api/image-record.js';
import type { TaskState } from '../../api/task.js';
import type { ImageClient } from '../../docker/docker-client.js';
import { errorMessage, ImageConflictError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../util/clock.js';
import { Periodic } from '../../util/periodic.js';
import { imagesInUse } from './images-in-use.js';
import { planImageCleanup, type ImageCleanupRules, type ImageRemoval } from './plan-image-cleanup.js';

export interface ImageCleanupPolicy extends ImageCleanupRules {
  readonly intervalMs: number;
}

/** The image records the engine keeps (ImageRecords); the cleaner reads them and forgets what it removed. */
export interface ImageUsage {
  all(): readonly ImageRecord[];
  forget(ref: string): unknown;
}

export interface ImageCleanerHooks {
  /** Every task the engine holds, whatever its status. */
  tasks(): readonly TaskState[];
  /** Whether a pull of this (normalised) reference is in flight. */
  isPulling(ref: string): boolean;
  /** Told of each image removed (metrics). */
  onRemoved?(removal: ImageRemoval): void;
}

/**
 * Periodic image cleanup, after the ECS agent's image manager: every `intervalMs`, lists the
 * local images, asks `planImageCleanup` which tracked images may go, and removes them least
 * recently used first. A removal Docker refuses (ImageConflictError: a container outside this
 * agent uses the image) is logged and skipped; the image is considered again next pass.
 */
export class ImageCleaner {
  private readonly periodic: Periodic;

  constructor(
    private readonly images: ImageClient,
    private readonly usage: ImageUsage,
    private readonly hooks: ImageCleanerHooks,
    private readonly opts: { clock: Clock; policy: ImageCleanupPolicy; log: Logger },
  ) {
    this.periodic = new Periodic(opts.clock, { intervalMs: opts.policy.intervalMs }, () => this.runOnce(), (error) =>
      opts.log.warn('Image cleanup pass failed; will retry', { error: errorMessage(error) }),
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One pass; returns the IDs of the images removed. */
  async runOnce(): Promise<string[]> {
    const local = await this.images.listImages();
    const records = this.usage.all();
    const plan = planImageCleanup({
      records,
      local,
      inUse: imagesInUse(this.hooks.tasks(), records),
      pulling: (ref) => this.hooks.isPulling(ref),
      rules: this.opts.policy,
      now: this.opts.clock.now(),
    });
    for (const k of plan.kept) this.opts.log.debug('Keeping image', { imageId: k.imageId, refs: k.refs, reason: k.reason });
    const removed: string[] = [];
    for (const removal of plan.removals) {
      if (await this.remove(removal)) removed.push(removal.imageId);
    }
    return removed;
  }

  private async remove(removal: ImageRemoval): Promise<boolean> {
    const log = this.opts.log;
    for (const ref of removal.remove) {
      // Asked again just before each call: a task may have been added, or a pull begun, since the plan.
      if (this.wantedNow(removal)) {
        log.info('Kept image: needed again since the cleanup pass began', { image: ref, imageId: removal.imageId });
        return false;
      }
      log.info('Removing image…', { image: ref, imageId: removal.imageId, lastUsedAt: new Date(removal.lastUsedAt).toISOString() });
      try {
        await this.images.removeImage(ref);
      } catch (error) {
        const why = error instanceof ImageConflictError ? 'Docker refuses while a container uses it' : 'will retry next pass';
        log.warn(`Failed to remove image (${why})`, { image: ref, imageId: removal.imageId, error: errorMessage(error) });
        return false;
      }
    }
    for (const ref of removal.records) await this.usage.forget(ref);
    log.info('Removed image', { imageId: removal.imageId, refs: removal.records });
    this.hooks.onRemoved?.(removal);
    return true;
  }

  private wantedNow(removal: ImageRemoval): boolean {
    const inUse = imagesInUse(this.hooks.tasks(), this.usage.all());
    const names = [...removal.records, ...removal.remove];
    return inUse.imageIds.has(removal.imageId) || names.some((n) => inUse.refs.has(n) || this.hooks.isPulling(n));
  }
}

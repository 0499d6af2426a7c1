import type { ImageRecord } from '../../api/image-record.js';
import { normalizeImageReference } from '../../docker/image-reference.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { Saver } from '../../state/saver.js';

/**
 * The agent's memory of the images its tasks use (src/api/image-record.ts): the in-memory copy,
 * and the one writer of it to the saver. Pulls note what they fetched, container creation notes
 * the use; the `once` pull behaviour and image cleanup read it.
 *
 * Writing is best effort: a record is bookkeeping, not task state, so a failed write is logged and
 * the change is written again with the next note (or `flush`), never failing the pull or create
 * that caused it. Writes are serialised, each carrying every change not yet written.
 */
export class ImageRecords {
  private readonly records = new Map<string, ImageRecord>();
  /** Refs whose record changed (put) or went (remove) since the last successful write. */
  private readonly dirty = new Set<string>();
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly saver: Saver,
    private readonly log: Logger,
  ) {}

  /** Reads the saved records; call once, before any note. */
  async load(): Promise<void> {
    for (const record of await this.saver.loadImages()) this.records.set(record.ref, record);
  }

  /** The record of an image however it is spelled (`busybox` and `docker.io/library/busybox:latest` are one). */
  get(ref: string): ImageRecord | undefined {
    return this.records.get(normalizeImageReference(ref));
  }

  /** Every record, ordered by ref. */
  all(): ImageRecord[] {
    return [...this.records.values()].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  }

  /** A successful pull: what the reference now names, and that it is used now. Resolves once written (or the write failed). */
  notePulled(ref: string, pulled: { readonly imageId: string; readonly digest?: string | undefined }, now: number): Promise<void> {
    const key = normalizeImageReference(ref);
    return this.put({
      ref: key,
      imageId: pulled.imageId,
      ...(pulled.digest === undefined ? {} : { digest: pulled.digest }),
      pulledAt: now,
      lastUsedAt: now,
    });
  }

  /**
   * A container was made from the image (or a cached one was chosen for it). A first record made
   * here has no `pulledAt`: this agent never pulled the image, it found it.
   */
  noteUsed(ref: string, imageId: string | undefined, now: number): Promise<void> {
    const key = normalizeImageReference(ref);
    const current = this.records.get(key);
    const id = imageId ?? current?.imageId;
    return this.put({ ...current, ref: key, ...(id === undefined ? {} : { imageId: id }), lastUsedAt: now });
  }

  /** The image is gone from Docker: its record goes too. */
  forget(ref: string): Promise<void> {
    const key = normalizeImageReference(ref);
    if (this.records.delete(key)) this.dirty.add(key);
    return this.write();
  }

  /** Writes whatever is not written yet (after a failure); resolves when done or failed again. */
  flush(): Promise<void> {
    return this.write();
  }

  private put(record: ImageRecord): Promise<void> {
    this.records.set(record.ref, record);
    this.dirty.add(record.ref);
    return this.write();
  }

  /** Queues a write after the one in flight: it carries every change made before it starts. */
  private write(): Promise<void> {
    this.tail = this.tail.then(() => this.writeDirty());
    return this.tail;
  }

  private async writeDirty(): Promise<void> {
    if (this.dirty.size === 0) return;
    const refs = [...this.dirty];
    this.dirty.clear();
    const put: ImageRecord[] = [];
    const remove: string[] = [];
    for (const ref of refs) {
      const record = this.records.get(ref);
      if (record) put.push(record);
      else remove.push(ref);
    }
    try {
      await this.saver.saveImages({ ...(put.length ? { put } : {}), ...(remove.length ? { remove } : {}) });
    } catch (error) {
      // Kept to be written with the next change; a newer change to the same ref already replaced it in memory.
      for (const ref of refs) this.dirty.add(ref);
      this.log.warn('Failed to save image records; will retry with the next change', { images: refs.length, error: errorMessage(error) });
    }
  }
}

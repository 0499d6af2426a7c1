import type { ImageRecord } from '../../api/image-record.js';
import type { ImageInfo } from '../../docker/docker-client.js';
import { normalizeImageReference } from '../../docker/image-reference.js';
import type { ImagesInUse } from './images-in-use.js';

/** What one pass may remove (config `imageCleanup`, less the schedule). */
export interface ImageCleanupRules {
  /** An image last used (or pulled) more recently than this is kept. */
  readonly minimumAgeMs: number;
  /** At most this many images are removed per pass. */
  readonly perPass: number;
  /** References never removed, as a task would spell them (compared normalised). */
  readonly exclude: readonly string[];
}

export interface ImageCleanupInput {
  /** Every image this agent tracks: the only candidates. */
  readonly records: readonly ImageRecord[];
  /** One `listImages()` answer. */
  readonly local: readonly ImageInfo[];
  readonly inUse: ImagesInUse;
  /** Whether a pull of this normalised reference is in flight. */
  readonly pulling: (ref: string) => boolean;
  readonly rules: ImageCleanupRules;
  readonly now: number;
}

export interface ImageRemoval {
  readonly imageId: string;
  /**
   * What to remove, in order: this agent's references to the image (Docker deletes the image with
   * its last one), or the image ID when none names it any more (the tag moved on, the image dangles).
   */
  readonly remove: readonly string[];
  /** The records to forget once the removals succeed. */
  readonly records: readonly string[];
  readonly lastUsedAt: number;
}

export type KeptReason = 'in-use' | 'pulling' | 'excluded' | 'too-recent';

export interface ImageCleanupPlan {
  /** Least recently used first, at most `perPass`. */
  readonly removals: readonly ImageRemoval[];
  /** Tracked images left alone, and why (for debug logs and tests). */
  readonly kept: readonly { readonly imageId: string; readonly refs: readonly string[]; readonly reason: KeptReason }[];
}

/**
 * Which images one cleanup pass removes. Pure: the cleaner lists and removes, this decides.
 * - Only images this agent tracks (has a record of: pulled, or used from the cache) are
 *   candidates; an image the agent never used is not its to remove, even when nothing uses it.
 * - Never one a task of this agent references (any task until it is forgotten), nor one being
 *   pulled, nor one named in the exclusion list, nor one used within `minimumAgeMs`.
 * - Least recently used first; at most `perPass` per pass.
 */
export function planImageCleanup({ records, local, inUse, pulling, rules, now }: ImageCleanupInput): ImageCleanupPlan {
  const excluded = new Set(rules.exclude.map(normalizeImageReference));
  const candidates = trackedImages(records, local);
  const removals: ImageRemoval[] = [];
  const kept: Array<ImageCleanupPlan['kept'][number]> = [];
  for (const c of candidates) {
    const reason = keptBecause(c, inUse, pulling, excluded, rules.minimumAgeMs, now);
    if (reason) kept.push({ imageId: c.image.id, refs: c.records.map((r) => r.ref), reason });
    else removals.push(removalOf(c));
  }
  removals.sort((a, b) => a.lastUsedAt - b.lastUsedAt || a.imageId.localeCompare(b.imageId));
  return { removals: removals.slice(0, Math.max(0, rules.perPass)), kept };
}

interface Tracked {
  readonly image: ImageInfo;
  /** Records naming the image by a reference it still has. */
  readonly named: readonly ImageRecord[];
  /** Every record of the image: `named`, or those whose last known ID it is when nothing names it. */
  readonly records: readonly ImageRecord[];
  /** Every name the image goes by: its tags and digests, normalised, and the records'. */
  readonly names: ReadonlySet<string>;
}

/** Local images at least one record accounts for: by a reference the image has, else by its ID when it has no tag left. */
function trackedImages(records: readonly ImageRecord[], local: readonly ImageInfo[]): Tracked[] {
  const namesOf = new Map(local.map((i) => [i.id, new Set([...i.repoTags, ...i.repoDigests].map(normalizeImageReference))]));
  const named = new Map<string, ImageRecord[]>();
  const byId = new Map<string, ImageRecord[]>();
  for (const r of records) {
    const image = local.find((i) => namesOf.get(i.id)!.has(r.ref));
    if (image) push(named, image.id, r);
    else if (r.imageId !== undefined) push(byId, r.imageId, r);
  }
  const tracked: Tracked[] = [];
  for (const image of local) {
    const byName = named.get(image.id) ?? [];
    const dangling = image.repoTags.length === 0 ? (byId.get(image.id) ?? []) : [];
    const all = [...byName, ...dangling];
    if (all.length === 0) continue;
    tracked.push({ image, named: byName, records: all, names: new Set([...namesOf.get(image.id)!, ...all.map((r) => r.ref)]) });
  }
  return tracked;
}

function keptBecause(c: Tracked, inUse: ImagesInUse, pulling: (ref: string) => boolean, excluded: ReadonlySet<string>, minimumAgeMs: number, now: number): KeptReason | undefined {
  const names = [...c.names];
  if (inUse.imageIds.has(c.image.id) || names.some((n) => inUse.refs.has(n))) return 'in-use';
  if (names.some(pulling)) return 'pulling';
  if (names.some((n) => excluded.has(n))) return 'excluded';
  if (now - lastUsed(c) < minimumAgeMs) return 'too-recent';
  return undefined;
}

function removalOf(c: Tracked): ImageRemoval {
  return {
    imageId: c.image.id,
    remove: c.named.length > 0 ? c.named.map((r) => r.ref) : [c.image.id],
    records: c.records.map((r) => r.ref),
    lastUsedAt: lastUsed(c),
  };
}

function lastUsed(c: Tracked): number {
  return Math.max(...c.records.map((r) => r.lastUsedAt));
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

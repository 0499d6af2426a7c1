import type { ImageRecord } from '../../api/image-record.js';
import type { TaskState } from '../../api/task.js';
import { normalizeImageReference } from '../../docker/image-reference.js';

/** The images the agent's tasks still need: by the names they use, the IDs those last resolved to, and their containers' own. */
export interface ImagesInUse {
  /** Normalised references (normalizeImageReference). */
  readonly refs: ReadonlySet<string>;
  /** Local image IDs (`sha256:…`) the records say those references name. */
  readonly imageIds: ReadonlySet<string>;
}

/**
 * Every image a task of this agent references: any task in the state store, whatever its status,
 * until it is forgotten at cleanup. A stopped task's containers still exist in Docker until then,
 * and a task waiting to start has not pulled yet — both need their image kept. The ID is taken
 * from the record too, so an image another task spells differently (another tag, a digest) is
 * still recognised as the same image.
 */
export function imagesInUse(tasks: readonly TaskState[], records: readonly ImageRecord[]): ImagesInUse {
  const byRef = new Map(records.map((r) => [r.ref, r]));
  const refs = new Set<string>();
  const imageIds = new Set<string>();
  for (const task of tasks) {
    for (const c of task.containers) {
      const ref = normalizeImageReference(c.definition.image);
      refs.add(ref);
      const id = byRef.get(ref)?.imageId;
      if (id !== undefined) imageIds.add(id);
      // The image its container was actually made from, which a later pull of the tag may have left behind.
      if (c.imageId !== undefined) imageIds.add(c.imageId);
    }
  }
  return { refs, imageIds };
}

/**
 * What the agent remembers of one image its tasks use, kept across restarts (src/state/records.ts
 * IMAGE). Pull behaviours read it (`once`: did this agent ever pull it?) and image cleanup orders
 * by it (least recently used first). Epoch milliseconds throughout.
 */
export interface ImageRecord {
  /** The reference as Docker resolves it (normalizeImageReference): one record however a task spells it. */
  readonly ref: string;
  /** The local image the reference last named: pulled, or found cached. */
  readonly imageId?: string;
  /** The registry digest (`sha256:…`) of the last successful pull. */
  readonly digest?: string;
  /** When this agent last pulled the image successfully; absent: never (it only ever ran cached). */
  readonly pulledAt?: number;
  /** When a container of this agent was last created from it, or it was last pulled. */
  readonly lastUsedAt: number;
}

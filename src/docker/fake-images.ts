import { createHash } from 'node:crypto';
import { ImageConflictError, ImageNotFoundError, ImagePullError } from '../errors.js';
import type { ImageInfo } from './docker-client.js';
import { normalizeImageReference } from './image-reference.js';

/** What the fake registry serves under one reference: a version of the image, with its digest. */
interface Published {
  readonly id: string;
  readonly digest: string;
  readonly sizeBytes: number;
}

interface LocalImage {
  readonly id: string;
  readonly sizeBytes: number;
  readonly createdAt: number;
  /** Normalised references (normalizeImageReference) that name this image. */
  readonly tags: Set<string>;
  readonly repoDigests: Set<string>;
}

export const DEFAULT_FAKE_IMAGE_BYTES = 1024 * 1024;

/**
 * The fake's registry and local image store, as Docker keeps them: a pull points a tag at the
 * registry's current version of the image (an older version that loses its last tag stays,
 * dangling, until removed); removal takes one tag at a time, and Docker's 409s are kept: the last
 * tag of an image a container was made from, or an ID that several tags name.
 */
export class FakeImages {
  private readonly registry = new Map<string, Published>();
  private readonly local = new Map<string, LocalImage>();
  private readonly byTag = new Map<string, string>();
  private versions = 0;

  constructor(private readonly now: () => number) {}

  /** The registry now serves a new version of `ref` (a push): the next pull fetches it. */
  publish(ref: string, sizeBytes = DEFAULT_FAKE_IMAGE_BYTES): Published {
    const key = normalizeImageReference(ref);
    const version = ++this.versions;
    const published = {
      id: `sha256:${hash(`fake-image-${key}-${version}`)}`,
      digest: `sha256:${hash(`fake-manifest-${key}-${version}`)}`,
      sizeBytes,
    };
    this.registry.set(key, published);
    return published;
  }

  /** Points the tag at the registry's version; throws the registry's refusal for an unknown one. */
  pull(ref: string): void {
    const key = normalizeImageReference(ref);
    const published = this.registry.get(key);
    if (!published) throw new ImagePullError(ref, `manifest for ${ref} not found: manifest unknown`);
    let image = this.local.get(published.id);
    if (!image) {
      image = { id: published.id, sizeBytes: published.sizeBytes, createdAt: this.now(), tags: new Set(), repoDigests: new Set() };
      this.local.set(image.id, image);
    }
    const previous = this.byTag.get(key);
    if (previous !== undefined && previous !== image.id) this.local.get(previous)?.tags.delete(key);
    image.tags.add(key);
    image.repoDigests.add(`${repositoryOf(key)}@${published.digest}`);
    this.byTag.set(key, image.id);
  }

  /** The image's ID, or undefined when no local image has that reference. */
  resolve(ref: string): string | undefined {
    if (this.local.has(ref)) return ref;
    if (/^(sha256:)?[0-9a-f]{12,64}$/.test(ref)) {
      const wanted = ref.startsWith('sha256:') ? ref : `sha256:${ref}`;
      const matches = [...this.local.keys()].filter((id) => id.startsWith(wanted));
      if (matches.length === 1) return matches[0];
    }
    const key = normalizeImageReference(ref);
    const tagged = this.byTag.get(key);
    if (tagged !== undefined) return tagged;
    if (key.includes('@')) {
      for (const image of this.local.values()) if (image.repoDigests.has(key)) return image.id;
    }
    return undefined;
  }

  inspect(ref: string): ImageInfo {
    const id = this.resolve(ref);
    if (id === undefined) throw new ImageNotFoundError(ref);
    return this.info(this.local.get(id)!);
  }

  list(): ImageInfo[] {
    return [...this.local.values()].map((image) => this.info(image));
  }

  /** `inUse`: whether a container was made from the image with this ID. */
  remove(ref: string, inUse: (imageId: string) => boolean): void {
    const id = this.resolve(ref);
    if (id === undefined) return;
    const image = this.local.get(id)!;
    const byId = ref === id || !this.byTag.has(normalizeImageReference(ref));
    if (byId && image.tags.size > 1) {
      throw new ImageConflictError(ref, `unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
    }
    const lastReference = byId || image.tags.size === 1;
    if (lastReference && inUse(id)) {
      throw new ImageConflictError(ref, `unable to remove repository reference "${ref}" (must force) - container is using its referenced image ${id.slice(7, 19)}`);
    }
    if (!byId) {
      const key = normalizeImageReference(ref);
      image.tags.delete(key);
      this.byTag.delete(key);
    }
    if (byId || image.tags.size === 0) {
      for (const tag of image.tags) this.byTag.delete(tag);
      this.local.delete(id);
    }
  }

  private info(image: LocalImage): ImageInfo {
    return {
      id: image.id,
      repoTags: [...image.tags].map(familiar),
      repoDigests: [...image.repoDigests].map(familiar),
      sizeBytes: image.sizeBytes,
      createdAt: image.createdAt,
    };
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `registry/path:tag` → `registry/path`. */
function repositoryOf(key: string): string {
  const at = key.indexOf('@');
  const name = at === -1 ? key : key.slice(0, at);
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/** A reference as Docker prints it: Docker Hub's registry and `library/` are left out. */
function familiar(key: string): string {
  return key.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

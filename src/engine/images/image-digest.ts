import type { ImageInfo } from '../../docker/docker-client.js';
import { normalizeImageReference } from '../../docker/image-reference.js';

/**
 * The registry digest (`sha256:…`) a local image has for the repository `image` names, from its
 * RepoDigests (`repo@sha256:…`, one per repository it was pulled from). Undefined for an image
 * never pulled from that repository (built or tagged locally).
 */
export function digestFor(image: string, info: ImageInfo): string | undefined {
  const wanted = repositoryOf(normalizeImageReference(image));
  for (const repoDigest of info.repoDigests) {
    const normalized = normalizeImageReference(repoDigest);
    const at = normalized.indexOf('@');
    if (at !== -1 && normalized.slice(0, at) === wanted) return normalized.slice(at + 1);
  }
  return undefined;
}

/** `registry/path:tag` or `registry/path@digest` → `registry/path`. */
function repositoryOf(normalized: string): string {
  const at = normalized.indexOf('@');
  const name = at === -1 ? normalized : normalized.slice(0, at);
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

import type { ImageRecord } from '../../api/image-record.js';
import type { ImagePullBehavior } from '../../api/task.js';
import type { ImageInfo } from '../../docker/docker-client.js';

/**
 * The pull behaviours (README "Image pulls"), as two pure decisions: whether to pull at all, and
 * what a failed pull means. The executor asks these and does what they say; no other code branches
 * on a behaviour.
 */

/**
 * Before pulling. `cached`: the local image the reference names now, if any; `record`: what this
 * agent remembers of the image (a `pulledAt` means it pulled it successfully once).
 */
export function beforePull(behavior: ImagePullBehavior, cached: ImageInfo | undefined, record: ImageRecord | undefined): 'pull' | 'use-cached' {
  switch (behavior) {
    case 'default':
    case 'always':
      return 'pull';
    case 'once':
      // Pulled once, but removed since (by cleanup, or by hand): it must be pulled again.
      return cached && record?.pulledAt !== undefined ? 'use-cached' : 'pull';
    case 'prefer-cached':
      return cached ? 'use-cached' : 'pull';
  }
}

/** After a pull failed for good (its retries spent). A cancelled pull is not a failure and never gets here. */
export function afterPullFailure(behavior: ImagePullBehavior, cached: ImageInfo | undefined): 'fail' | 'fallback-to-cached' {
  return behavior === 'default' && cached ? 'fallback-to-cached' : 'fail';
}

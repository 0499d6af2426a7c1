import type { ContainerState } from '../../api/task.js';
import type { AvailableImage } from '../actions.js';

/** The container's record of its image, replaced whole: a later pull leaves nothing of an earlier one. */
export function withImage(c: ContainerState, image: AvailableImage): ContainerState {
  const { imageId: _id, imageDigest: _digest, imageSource: _source, pullFailure: _failure, ...rest } = c;
  return {
    ...rest,
    ...(image.imageId === undefined ? {} : { imageId: image.imageId }),
    ...(image.digest === undefined ? {} : { imageDigest: image.digest }),
    imageSource: image.source,
    ...(image.pullError === undefined ? {} : { pullFailure: image.pullError }),
  };
}

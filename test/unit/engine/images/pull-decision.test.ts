import { describe, expect, it } from 'vitest';
import type { ImageRecord } from '../../../../src/api/image-record.js';
import type { ImagePullBehavior } from '../../../../src/api/task.js';
import type { ImageInfo } from '../../../../src/docker/docker-client.js';
import { digestFor } from '../../../../src/engine/images/image-digest.js';
import { afterPullFailure, beforePull } from '../../../../src/engine/images/pull-decision.js';
import { isRetryablePullError } from '../../../../src/engine/images/pull-retryable.js';
import {
  CredentialHelperError,
  DockerApiError,
  DockerTimeoutError,
  DockerUnavailableError,
  ImagePullError,
  PullCancelledError,
  PullTimeoutError,
} from '../../../../src/errors.js';

const CACHED: ImageInfo = { id: 'sha256:abc', repoTags: ['busybox:latest'], repoDigests: ['busybox@sha256:d1'], sizeBytes: 1, createdAt: 1 };
const PULLED_ONCE: ImageRecord = { ref: 'docker.io/library/busybox:latest', imageId: 'sha256:abc', pulledAt: 5, lastUsedAt: 5 };
const ONLY_USED: ImageRecord = { ref: 'docker.io/library/busybox:latest', imageId: 'sha256:abc', lastUsedAt: 5 };

describe('beforePull', () => {
  it.each<[ImagePullBehavior, ImageInfo | undefined, ImageRecord | undefined, 'pull' | 'use-cached']>([
    ['default', CACHED, PULLED_ONCE, 'pull'],
    ['default', undefined, undefined, 'pull'],
    ['always', CACHED, PULLED_ONCE, 'pull'],
    ['always', undefined, undefined, 'pull'],
    ['once', CACHED, PULLED_ONCE, 'use-cached'],
    ['once', CACHED, ONLY_USED, 'pull'],
    ['once', CACHED, undefined, 'pull'],
    ['once', undefined, PULLED_ONCE, 'pull'],
    ['prefer-cached', CACHED, undefined, 'use-cached'],
    ['prefer-cached', undefined, PULLED_ONCE, 'pull'],
  ])('%s, cached: %o, record: %o → %s', (behavior, cached, record, expected) => {
    expect(beforePull(behavior, cached, record)).toBe(expected);
  });
});

describe('afterPullFailure', () => {
  it.each<[ImagePullBehavior, ImageInfo | undefined, 'fail' | 'fallback-to-cached']>([
    ['default', CACHED, 'fallback-to-cached'],
    ['default', undefined, 'fail'],
    ['always', CACHED, 'fail'],
    ['once', CACHED, 'fail'],
    ['prefer-cached', undefined, 'fail'],
  ])('%s, cached: %o → %s', (behavior, cached, expected) => {
    expect(afterPullFailure(behavior, cached)).toBe(expected);
  });
});

describe('digestFor', () => {
  const info = (repoDigests: string[]): ImageInfo => ({ ...CACHED, repoDigests });
  it('takes the digest of the repository the reference names, however it is spelled', () => {
    const both = info(['busybox@sha256:hub', '127.0.0.1:5000/berth/busybox@sha256:local']);
    expect(digestFor('docker.io/library/busybox:1.36', both)).toBe('sha256:hub');
    expect(digestFor('127.0.0.1:5000/berth/busybox:latest', both)).toBe('sha256:local');
    expect(digestFor('127.0.0.1:5000/berth/busybox@sha256:local', both)).toBe('sha256:local');
  });
  it('has none for an image never pulled from that repository', () => {
    expect(digestFor('127.0.0.1:5000/berth/local-only:x', info(['127.0.0.1:5000/berth/busybox@sha256:local']))).toBeUndefined();
    expect(digestFor('busybox', info([]))).toBeUndefined();
  });
});

describe('isRetryablePullError', () => {
  it.each<[string, unknown, boolean]>([
    ['a reset connection', new ImagePullError('a', 'read tcp: connection reset by peer'), true],
    ['a registry 5xx', new ImagePullError('a', 'received unexpected HTTP status: 503 Service Unavailable', { cause: { statusCode: 500 } }), true],
    ['an unknown manifest', new ImagePullError('a', 'manifest for a not found: manifest unknown'), false],
    ['a 404', new ImagePullError('a', 'pull access denied', { cause: { statusCode: 404 } }), false],
    ['refused credentials', new ImagePullError('a', 'unauthorized: authentication required'), false],
    ['a 429', new ImagePullError('a', 'toomanyrequests', { cause: { statusCode: 429 } }), true],
    ['an inactivity timeout', new PullTimeoutError('a', 'inactivity', 60_000), true],
    ['an overall timeout', new PullTimeoutError('a', 'overall', 600_000), true],
    ['Docker unreachable', new DockerUnavailableError('down'), true],
    ['Docker slow', new DockerTimeoutError('pull', 1), true],
    ['Docker 500', new DockerApiError('pull', 500, 'boom'), true],
    ['Docker 400', new DockerApiError('pull', 400, 'bad'), false],
    ['a missing credential helper', new CredentialHelperError('a', 'pass', 'is not on PATH', { retryable: false }), false],
    ['a cancel', new PullCancelledError('a'), false],
    ['a programming error', new TypeError('x'), false],
  ])('%s → %s', (_name, error, expected) => {
    expect(isRetryablePullError(error)).toBe(expected);
  });
});

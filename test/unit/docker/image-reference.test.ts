import { describe, expect, it } from 'vitest';
import { normalizeImageReference } from '../../../src/docker/image-reference.js';

describe('normalizeImageReference', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['amazon/aws-cli', 'docker.io/amazon/aws-cli:latest'],
    ['127.0.0.1:5000/berth/busybox', '127.0.0.1:5000/berth/busybox:latest'],
    ['localhost/app:2', 'localhost/app:2'],
    ['public.ecr.aws/nginx/nginx:1.25', 'public.ecr.aws/nginx/nginx:1.25'],
    ['busybox@sha256:abc', 'docker.io/library/busybox@sha256:abc'],
    ['busybox:1.36@sha256:abc', 'docker.io/library/busybox:1.36@sha256:abc'],
  ])('names %s as Docker does: %s', (given, normal) => {
    expect(normalizeImageReference(given)).toBe(normal);
  });

  it('keeps a registry port apart from a tag', () => {
    expect(normalizeImageReference('registry.test:5000/app')).toBe('registry.test:5000/app:latest');
    expect(normalizeImageReference('registry.test:5000/app')).not.toBe(normalizeImageReference('registry.test/app:5000'));
  });
});

import { describe, expect, it } from 'vitest';
import { DOCKER_HUB_KEY, entryFor, hostOfKey, registryHost, serverKey } from '../../../../src/docker/registry-auth/registry-host.js';

describe('registryHost', () => {
  it.each([
    ['127.0.0.1:5001/berth/private:latest', '127.0.0.1:5001'],
    ['127.0.0.1:5001/x/y@sha256:' + 'a'.repeat(64), '127.0.0.1:5001'],
    ['registry.example.com/team/app', 'registry.example.com'],
    ['localhost/app:1', 'localhost'],
    ['busybox', 'docker.io'],
    ['library/busybox:1.36', 'docker.io'],
    ['someone/app', 'docker.io'],
    ['docker.io/library/busybox', 'docker.io'],
    ['index.docker.io/someone/app', 'docker.io'],
  ])('%s is pulled from %s', (image, host) => {
    expect(registryHost(image)).toBe(host);
  });
});

describe('serverKey and hostOfKey', () => {
  it("looks Docker Hub up under Docker's legacy URL, every other registry under its host", () => {
    expect(serverKey('docker.io')).toBe(DOCKER_HUB_KEY);
    expect(serverKey('127.0.0.1:5001')).toBe('127.0.0.1:5001');
  });

  it.each([
    ['127.0.0.1:5001', '127.0.0.1:5001'],
    ['https://127.0.0.1:5001', '127.0.0.1:5001'],
    ['http://127.0.0.1:5001/v2/', '127.0.0.1:5001'],
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
  ])('reads key %s as host %s', (key, host) => {
    expect(hostOfKey(key)).toBe(host);
  });
});

describe('entryFor', () => {
  it('takes the exact key first, then the first key naming the same host with a scheme or path', () => {
    const entries = new Map([
      ['https://127.0.0.1:5001/v2/', 'with scheme'],
      ['127.0.0.1:5001', 'exact'],
      ['http://127.0.0.1:5002', 'other-1'],
      ['https://127.0.0.1:5002', 'other-2'],
    ]);
    expect(entryFor(entries, '127.0.0.1:5001')).toBe('exact');
    expect(entryFor(entries, '127.0.0.1:5002')).toBe('other-1');
    expect(entryFor(entries, '127.0.0.1:5003')).toBeUndefined();
    expect(entryFor(entries, '127.0.0.1')).toBeUndefined();
  });

  it("finds Docker Hub's entry under any of its spellings", () => {
    expect(entryFor(new Map([[DOCKER_HUB_KEY, 'hub']]), 'docker.io')).toBe('hub');
    expect(entryFor(new Map([['docker.io', 'hub']]), 'docker.io')).toBe('hub');
    expect(entryFor(new Map([['https://registry-1.docker.io', 'hub']]), 'docker.io')).toBe('hub');
  });
});

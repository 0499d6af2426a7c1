import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS, resolveConfig } from '../../../src/config/config.js';
import { ConfigError } from '../../../src/errors.js';
import { cli } from '../cli/support.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-manifests-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ctx = (env: Record<string, string> = {}) => ({ env, uid: 1000, home: dir });

describe('--manifests', () => {
  it('is off by default; a flag beats BERTH_MANIFESTS; the path is made absolute and the timings come from DEFAULTS', () => {
    expect(resolveConfig({}, ctx()).manifests).toBeUndefined();
    expect(resolveConfig({}, ctx({ BERTH_MANIFESTS: '' })).manifests).toBeUndefined();
    const other = mkdtempSync(join(dir, 'other-'));
    expect(resolveConfig({}, ctx({ BERTH_MANIFESTS: other })).manifests).toEqual({ dir: other, ...DEFAULTS.manifests });
    expect(resolveConfig({ manifests: dir }, ctx({ BERTH_MANIFESTS: other })).manifests?.dir).toBe(dir);
  });

  it('refuses a directory that does not exist, naming the setting and the path', () => {
    const missing = join(dir, 'nope');
    expect(() => resolveConfig({ manifests: missing }, ctx())).toThrow(ConfigError);
    expect(() => resolveConfig({}, ctx({ BERTH_MANIFESTS: missing }))).toThrow(`manifests directory (--manifests, BERTH_MANIFESTS) "${missing}" does not exist`);
  });

  it('is a flag of agent run', async () => {
    const help = await cli(['run', '--help']);
    expect(help.stdout).toMatch(/--manifests <dir>\s+watch this directory/);
  });
});

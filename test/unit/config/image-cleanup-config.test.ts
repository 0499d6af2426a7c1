import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerRunCommand } from '../../../src/cli/commands/run.js';
import { cliContext } from '../../../src/cli/io.js';
import { resolveConfig, type ConfigFlags } from '../../../src/config/config.js';
import { ConfigError } from '../../../src/errors.js';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { cli, Sink } from '../cli/support.js';

const ctx = (env: Record<string, string> = {}) => ({ env, uid: 1000, home: '/home/op' });

describe('image cleanup settings', () => {
  it('default to the ECS agent’s: on, every 30 min, images unused for 1 h, 5 per pass, nothing excluded', () => {
    expect(resolveConfig({}, ctx()).imageCleanup).toEqual({ enabled: true, intervalMs: 30 * 60_000, minimumAgeMs: 60 * 60_000, perPass: 5, exclude: [] });
  });

  it('take a flag over the environment over the default', () => {
    const env = ctx({
      BERTH_IMAGE_CLEANUP_ENABLED: 'false',
      BERTH_IMAGE_CLEANUP_INTERVAL: '10m',
      BERTH_IMAGE_CLEANUP_MIN_AGE: '3h',
      BERTH_IMAGE_CLEANUP_PER_PASS: '2',
      BERTH_IMAGE_CLEANUP_EXCLUDE: 'busybox, registry.test:5000/keep:1',
    });
    expect(resolveConfig({}, env).imageCleanup).toEqual({ enabled: false, intervalMs: 600_000, minimumAgeMs: 3 * 3_600_000, perPass: 2, exclude: ['busybox', 'registry.test:5000/keep:1'] });
    const flags: ConfigFlags = { imageCleanup: true, imageCleanupInterval: '1s', imageCleanupMinAge: '0', imageCleanupPerPass: '7', imageCleanupExclude: ['a:1,b:2', 'c:3'] };
    expect(resolveConfig(flags, env).imageCleanup).toEqual({ enabled: true, intervalMs: 1000, minimumAgeMs: 0, perPass: 7, exclude: ['a:1', 'b:2', 'c:3'] });
  });

  it.each<[ConfigFlags, Record<string, string>, string]>([
    [{ imageCleanupInterval: '500ms' }, {}, 'image cleanup interval must be at least 1s, got "500ms"'],
    [{ imageCleanupInterval: 'often' }, {}, 'image cleanup interval (BERTH_IMAGE_CLEANUP_INTERVAL) must be a duration like 30s, 10m, 1h or 7d, got "often"'],
    [{ imageCleanupMinAge: '-1h' }, {}, 'image cleanup minimum age (BERTH_IMAGE_CLEANUP_MIN_AGE) must be a duration like 30s, 10m, 1h or 7d, got "-1h"'],
    [{ imageCleanupPerPass: '0' }, {}, 'image cleanup per pass (BERTH_IMAGE_CLEANUP_PER_PASS) must be a whole number of at least 1, got "0"'],
    [{}, { BERTH_IMAGE_CLEANUP_ENABLED: 'maybe' }, 'image cleanup (BERTH_IMAGE_CLEANUP_ENABLED) must be true, false, 1 or 0, got "maybe"'],
    [{ imageCleanupExclude: ['ok:1,bad ref'] }, {}, 'image cleanup exclude must be image references separated by commas, got "bad ref"'],
  ])('refuses %j %j naming the setting', (flags, env, message) => {
    expect(() => resolveConfig(flags, ctx(env))).toThrow(new ConfigError(message));
  });
});

describe('agent run image cleanup flags', () => {
  /** The flags `agent run` hands to the config, stopping before the agent starts. */
  async function flagsOf(args: string[]): Promise<ConfigFlags> {
    let seen: ConfigFlags | undefined;
    const program = new Command().exitOverride();
    const base = cliContext({ stdout: new Sink(), stderr: new Sink(), env: {} });
    registerRunCommand(program, {
      ...base,
      config: (flags) => {
        seen = flags;
        throw new Error('stop here');
      },
    });
    await expect(program.parseAsync(['node', 'agent', 'run', ...args])).rejects.toThrow('stop here');
    return seen!;
  }

  it('pass every setting, a repeated exclusion, and leave the switch to the environment unless --no-image-cleanup is given', async () => {
    const flags = await flagsOf(['--image-cleanup-interval', '1s', '--image-cleanup-min-age', '0', '--image-cleanup-per-pass', '3', '--image-cleanup-exclude', 'a:1,b:2', '--image-cleanup-exclude', 'c:3']);
    expect(flags).toMatchObject({ imageCleanupInterval: '1s', imageCleanupMinAge: '0', imageCleanupPerPass: '3', imageCleanupExclude: ['a:1,b:2', 'c:3'] });
    expect(flags.imageCleanup).toBeUndefined();
    expect(resolveConfig(flags, ctx({ BERTH_IMAGE_CLEANUP_ENABLED: 'false' })).imageCleanup.enabled).toBe(false);
    expect((await flagsOf(['--no-image-cleanup'])).imageCleanup).toBe(false);
  });

  it('a bad value stops `agent run` before it starts, with a usage exit naming the setting', async () => {
    const run = await cli(['run', '--data-dir', '/nonexistent/berth-never-made', '--image-cleanup-per-pass', '0']);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toBe('agent: image cleanup per pass (BERTH_IMAGE_CLEANUP_PER_PASS) must be a whole number of at least 1, got "0"\n');
  });
});

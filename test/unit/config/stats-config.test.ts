import { describe, expect, it } from 'vitest';
import { resolveConfig, type ConfigFlags } from '../../../src/config/config.js';
import { ConfigError } from '../../../src/errors.js';

const ctx = (env: Record<string, string> = {}) => ({ env, uid: 1000, home: '/home/op' });

describe('stats settings', () => {
  it('default to a sample every 10 s, off above 100 tasks, 4 calls at once', () => {
    expect(resolveConfig({}, ctx()).stats).toEqual({ intervalMs: 10_000, maxTasks: 100, concurrency: 4 });
  });

  it('take a flag over the environment over the default; 0 tasks turns them off', () => {
    const env = ctx({ BERTH_STATS_INTERVAL: '30s', BERTH_STATS_MAX_TASKS: '0' });
    expect(resolveConfig({}, env).stats).toMatchObject({ intervalMs: 30_000, maxTasks: 0 });
    expect(resolveConfig({ statsInterval: '1s', statsMaxTasks: '250' }, env).stats).toMatchObject({ intervalMs: 1_000, maxTasks: 250 });
  });

  it.each<[ConfigFlags, Record<string, string>, string]>([
    [{ statsInterval: '500ms' }, {}, 'stats interval (--stats-interval, BERTH_STATS_INTERVAL) must be at least 1s, got "500ms"'],
    [{}, { BERTH_STATS_INTERVAL: 'often' }, 'stats interval (--stats-interval, BERTH_STATS_INTERVAL) must be a duration like 30s, 10m, 1h or 7d, got "often"'],
    [{ statsMaxTasks: '-1' }, {}, 'stats max tasks (--stats-max-tasks, BERTH_STATS_MAX_TASKS) must be a whole number of at least 0, got "-1"'],
    [{}, { BERTH_STATS_MAX_TASKS: 'many' }, 'stats max tasks (--stats-max-tasks, BERTH_STATS_MAX_TASKS) must be a whole number of at least 0, got "many"'],
  ])('refuses %j %j naming the setting', (flags, env, message) => {
    expect(() => resolveConfig(flags, ctx(env))).toThrow(new ConfigError(message));
  });
});

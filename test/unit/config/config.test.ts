import { describe, expect, it } from 'vitest';
import { DEFAULTS, resolveConfig } from '../../../src/config/config.js';
import { duration } from '../../../src/config/values.js';
import { ConfigError } from '../../../src/errors.js';

const ctx = (env: Record<string, string> = {}, uid = 1000) => ({ env, uid, home: '/home/op' });

describe('resolveConfig', () => {
  it('defaults the data dir to /var/lib/berth for root and ~/.local/state/berth otherwise', () => {
    expect(resolveConfig({}, ctx({}, 0)).dataDir).toBe('/var/lib/berth');
    const user = resolveConfig({}, ctx());
    expect(user.dataDir).toBe('/home/op/.local/state/berth');
    expect(user.socketPath).toBe('/home/op/.local/state/berth/agent.sock');
    expect(user.databasePath).toBe('/home/op/.local/state/berth/state.db');
  });

  it('takes a flag over the environment over the default', () => {
    expect(resolveConfig({}, ctx({ BERTH_DATA_DIR: '/env' })).dataDir).toBe('/env');
    expect(resolveConfig({ dataDir: '/flag' }, ctx({ BERTH_DATA_DIR: '/env' })).dataDir).toBe('/flag');
    expect(resolveConfig({ concurrency: '3' }, ctx({ BERTH_RECONCILE_CONCURRENCY: '5' })).reconcileConcurrency).toBe(3);
    expect(resolveConfig({}, ctx({ BERTH_RECONCILE_CONCURRENCY: '5' })).reconcileConcurrency).toBe(5);
    expect(resolveConfig({}, ctx({ DOCKER_HOST: 'tcp://127.0.0.1:2375' })).dockerHost).toBe('tcp://127.0.0.1:2375');
    expect(resolveConfig({ maxConcurrentPulls: '4' }, ctx({ BERTH_MAX_CONCURRENT_PULLS: '3' })).maxConcurrentPulls).toBe(4);
    expect(resolveConfig({}, ctx({ BERTH_MAX_CONCURRENT_PULLS: '3' })).maxConcurrentPulls).toBe(3);
  });

  it('refuses privileged containers unless --allow-privileged or BERTH_ALLOW_PRIVILEGED says otherwise', () => {
    expect(resolveConfig({}, ctx()).allowPrivileged).toBe(false);
    expect(resolveConfig({ allowPrivileged: true }, ctx()).allowPrivileged).toBe(true);
    expect(resolveConfig({}, ctx({ BERTH_ALLOW_PRIVILEGED: 'true' })).allowPrivileged).toBe(true);
    expect(resolveConfig({}, ctx({ BERTH_ALLOW_PRIVILEGED: '0' })).allowPrivileged).toBe(false);
    expect(() => resolveConfig({}, ctx({ BERTH_ALLOW_PRIVILEGED: 'yes' }))).toThrow(
      new ConfigError('allow privileged (BERTH_ALLOW_PRIVILEGED) must be true, false, 1 or 0, got "yes"'),
    );
  });

  it('only reports drift unless --recreate-on-drift or BERTH_RECREATE_ON_DRIFT', () => {
    expect(resolveConfig({}, ctx())).toMatchObject({ recreateOnDrift: false });
    expect(resolveConfig({ recreateOnDrift: true }, ctx())).toMatchObject({ recreateOnDrift: true });
    expect(resolveConfig({}, ctx({ BERTH_RECREATE_ON_DRIFT: '1' }))).toMatchObject({ recreateOnDrift: true });
    expect(() => resolveConfig({}, ctx({ BERTH_RECREATE_ON_DRIFT: 'perhaps' }))).toThrow(/BERTH_RECREATE_ON_DRIFT/);
  });

  it('gives containers no metadata file unless --container-metadata or BERTH_CONTAINER_METADATA, as ECS; the cluster is default unless named', () => {
    expect(resolveConfig({}, ctx())).toMatchObject({ containerMetadata: false, cluster: 'default' });
    expect(resolveConfig({ containerMetadata: true, cluster: 'prod-1' }, ctx({ BERTH_CLUSTER: 'other' }))).toMatchObject({ containerMetadata: true, cluster: 'prod-1' });
    expect(resolveConfig({}, ctx({ BERTH_CONTAINER_METADATA: '1', BERTH_CLUSTER: 'edge_2' }))).toMatchObject({ containerMetadata: true, cluster: 'edge_2' });
    expect(() => resolveConfig({}, ctx({ BERTH_CONTAINER_METADATA: 'on' }))).toThrow(
      new ConfigError('container metadata (BERTH_CONTAINER_METADATA) must be true, false, 1 or 0, got "on"'),
    );
    expect(() => resolveConfig({ cluster: 'a/b' }, ctx())).toThrow(
      new ConfigError('cluster (--cluster, BERTH_CLUSTER) must be 1-255 letters, digits, hyphens or underscores, got "a/b"'),
    );
  });

  it('fills every setting, frozen, with the documented defaults', () => {
    const c = resolveConfig({}, ctx());
    expect(Object.isFrozen(c)).toBe(true);
    expect(c).toMatchObject({
      reconcileConcurrency: DEFAULTS.reconcileConcurrency,
      maxConcurrentPulls: 2,
      taskCleanupWaitMs: 3_600_000,
      eventRetentionCount: 100_000,
      eventRetentionAgeMs: 7 * 86_400_000,
      dockerHost: 'unix:///var/run/docker.sock',
      logLevel: 'info',
      logFormat: 'json',
      http: DEFAULTS.http,
    });
    expect(c.socketGroup).toBeUndefined();
  });

  it('resolves the pull settings from flags, then BERTH_IMAGE_PULL_*, then the defaults; 0 or none is no timeout', () => {
    expect(resolveConfig({}, ctx())).toMatchObject({
      imagePullBehavior: 'default',
      pullTimeoutMs: 600_000,
      pullInactivityTimeoutMs: 60_000,
      pullRetries: 2,
      pullRetryBackoff: DEFAULTS.pullRetryBackoff,
    });
    const env = ctx({
      BERTH_IMAGE_PULL_BEHAVIOR: 'once',
      BERTH_IMAGE_PULL_TIMEOUT: 'none',
      BERTH_IMAGE_PULL_INACTIVITY_TIMEOUT: '0',
      BERTH_IMAGE_PULL_RETRIES: '0',
    });
    expect(resolveConfig({}, env)).toMatchObject({ imagePullBehavior: 'once', pullTimeoutMs: 0, pullInactivityTimeoutMs: 0, pullRetries: 0 });
    expect(
      resolveConfig({ imagePullBehavior: 'prefer-cached', imagePullTimeout: '2h', imagePullInactivityTimeout: '30s', imagePullRetries: '5' }, env),
    ).toMatchObject({ imagePullBehavior: 'prefer-cached', pullTimeoutMs: 7_200_000, pullInactivityTimeoutMs: 30_000, pullRetries: 5 });
  });

  it('refuses a bad pull behaviour from the environment, naming the variable', () => {
    expect(() => resolveConfig({}, ctx({ BERTH_IMAGE_PULL_BEHAVIOR: 'never' }))).toThrow(
      new ConfigError('image pull behavior (BERTH_IMAGE_PULL_BEHAVIOR) must be one of default, always, once, prefer-cached, got "never"'),
    );
  });

  it.each([
    [{ imagePullBehavior: 'Always' }, /image pull behavior \(BERTH_IMAGE_PULL_BEHAVIOR\) must be one of default, always, once, prefer-cached, got "Always"/],
    [{ imagePullTimeout: 'forever' }, /image pull timeout \(BERTH_IMAGE_PULL_TIMEOUT\) must be a duration like 30s, 10m or 1h, or 0 or none for no timeout, got "forever"/],
    [{ imagePullInactivityTimeout: '-1m' }, /image pull inactivity timeout \(BERTH_IMAGE_PULL_INACTIVITY_TIMEOUT\) must be a duration/],
    [{ imagePullRetries: '-1' }, /image pull retries \(BERTH_IMAGE_PULL_RETRIES\) must be a whole number of at least 0, got "-1"/],
    [{ imagePullRetries: '' }, /image pull retries.*got ""/],
    [{ concurrency: '0' }, /concurrency.*at least 1.*"0"/],
    [{ concurrency: 'lots' }, /concurrency/],
    [{ cleanupWait: 'soon' }, /cleanup wait.*duration.*"soon"/],
    [{ logLevel: 'loud' }, /log level must be one of/],
    [{ logFormat: 'xml' }, /log format must be json or text/],
    [{ dockerHost: 'ftp://x' }, /docker host must look like/],
    [{ socketGroup: 'bad group!' }, /socket group must be a group name or numeric gid/],
    [{ eventRetentionAge: '-1d' }, /event retention age/],
    [{ maxConcurrentPulls: '0' }, /max concurrent pulls \(BERTH_MAX_CONCURRENT_PULLS\) must be a whole number of at least 1, got "0"/],
    [{ maxConcurrentPulls: '1.5' }, /max concurrent pulls.*"1\.5"/],
    [{ maxConcurrentPulls: 'two' }, /max concurrent pulls.*"two"/],
  ])('rejects %j with a message naming the setting', (flags, message) => {
    expect(() => resolveConfig(flags, ctx())).toThrow(ConfigError);
    expect(() => resolveConfig(flags, ctx())).toThrow(message);
  });
});

describe('host resources', () => {
  const host = { cpus: 4, memoryMiB: 8000 };
  const on = (env: Record<string, string> = {}) => ({ ...ctx(env), host });

  it('keeps nothing from tasks by default, as ECS (ECS_RESERVED_MEMORY 0), and carries the host for state dump', () => {
    expect(resolveConfig({}, on())).toMatchObject({ host, reservedMemoryMiB: 0, reservedCpuUnits: 0 });
  });

  it('takes --reserved-memory / --reserved-cpu over BERTH_RESERVED_MEMORY / BERTH_RESERVED_CPU', () => {
    expect(resolveConfig({}, on({ BERTH_RESERVED_MEMORY: '512', BERTH_RESERVED_CPU: '256' }))).toMatchObject({ reservedMemoryMiB: 512, reservedCpuUnits: 256 });
    expect(resolveConfig({ reservedMemory: '1024', reservedCpu: '0' }, on({ BERTH_RESERVED_MEMORY: '512', BERTH_RESERVED_CPU: '256' }))).toMatchObject({
      reservedMemoryMiB: 1024,
      reservedCpuUnits: 0,
    });
  });

  it('reads the host from the operating system when not given one', () => {
    const c = resolveConfig({}, ctx());
    expect(c.host.cpus).toBeGreaterThanOrEqual(1);
    expect(c.host.memoryMiB).toBeGreaterThan(0);
  });

  it.each([
    [{ reservedMemory: '-1' }, 'reserved memory (--reserved-memory, BERTH_RESERVED_MEMORY) must be a whole number of MiB, 0 or more, got "-1"'],
    [{ reservedMemory: 'lots' }, 'reserved memory (--reserved-memory, BERTH_RESERVED_MEMORY) must be a whole number of MiB, 0 or more, got "lots"'],
    [{ reservedMemory: '1.5' }, 'reserved memory (--reserved-memory, BERTH_RESERVED_MEMORY) must be a whole number of MiB, 0 or more, got "1.5"'],
    [{ reservedMemory: '' }, 'reserved memory (--reserved-memory, BERTH_RESERVED_MEMORY) must be a whole number of MiB, 0 or more, got ""'],
    [{ reservedMemory: '8000' }, "reserved memory (--reserved-memory, BERTH_RESERVED_MEMORY) must be less than the host's 8000 MiB, got 8000: no task could ever be admitted"],
    [{ reservedCpu: '-256' }, 'reserved cpu (--reserved-cpu, BERTH_RESERVED_CPU) must be a whole number of CPU units, 0 or more, got "-256"'],
    [{ reservedCpu: '4096' }, "reserved cpu (--reserved-cpu, BERTH_RESERVED_CPU) must be less than the host's 4096 CPU units, got 4096: no task could ever be admitted"],
  ])('refuses %j with a message naming the setting', (flags, message) => {
    expect(() => resolveConfig(flags, on())).toThrow(new ConfigError(message));
  });

  it('names the environment variable too when the bad value comes from it', () => {
    expect(() => resolveConfig({}, on({ BERTH_RESERVED_CPU: 'x' }))).toThrow(/BERTH_RESERVED_CPU.*"x"/);
  });
});

describe('duration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['30', 30_000],
    ['10m', 600_000],
    ['1.5h', 5_400_000],
    ['7d', 604_800_000],
  ])('parses %s', (raw, ms) => {
    expect(duration('x', raw, 0)).toBe(ms);
  });

  it('uses the fallback when absent', () => {
    expect(duration('x', undefined, 42)).toBe(42);
  });
});

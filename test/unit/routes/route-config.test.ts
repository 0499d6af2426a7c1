import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/config.js';
import { FilterPatternError, matchesLabels, parseFilterPattern } from '../../../src/routes/label-filter.js';
import { describeRoute, loadConfigFile, parseConfigDocument } from '../../../src/routes/route-config.js';

describe('filter patterns (beacon ParseFilter)', () => {
  it.each<[string, Record<string, string>]>([
    ['', {}],
    ['tier=web', { tier: 'web' }],
    ['tier=web,env=prod', { tier: 'web', env: 'prod' }],
    ['url=http://x/?a=b', { url: 'http://x/?a=b' }],
    ['empty=', { empty: '' }],
  ])('%j', (pattern, labels) => {
    expect(parseFilterPattern(pattern)).toEqual({ labels });
  });

  it.each(['tier', 'tier=web,env', '=web', 'a=1,,b=2', 'a=1,a=2'])('refuses %j naming it', (pattern) => {
    expect(() => parseFilterPattern(pattern)).toThrow(new FilterPatternError(pattern));
    expect(() => parseFilterPattern(pattern)).toThrow(`invalid filter pattern: ${pattern}`);
  });

  it('matches when every pair matches; the empty filter matches all', () => {
    const f = parseFilterPattern('tier=web,env=prod');
    expect(matchesLabels(f, { tier: 'web', env: 'prod', other: 'x' })).toBe(true);
    expect(matchesLabels(f, { tier: 'web' })).toBe(false);
    expect(matchesLabels(parseFilterPattern(''), undefined)).toBe(true);
  });
});

describe('the config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads YAML with one route of each backend, defaults filled in', () => {
    const path = write(
      'routes.yaml',
      `routes:
  - name: audit
    backend: { type: file, path: /var/log/berth/events.ndjson }
    fullEvents: true
  - name: registry
    filter: tier=web
    backend:
      type: webhook
      url: http://127.0.0.1:9000/hook
      headers: { Authorization: Bearer secret }
      timeout: 2s
  - name: pager
    filter: { labels: { alert: "yes" } }
    backend: { type: command, command: [/usr/local/bin/notify, --quiet] }
    retry: { initial: 100ms, max: 10s }
`,
    );
    const { routes } = loadConfigFile(path);
    expect(routes.map((r) => [r.name, r.backend.type, r.filter.labels, r.fullEvents])).toEqual([
      ['audit', 'file', {}, true],
      ['registry', 'webhook', { tier: 'web' }, false],
      ['pager', 'command', { alert: 'yes' }, false],
    ]);
    expect(routes[1]!.backend).toEqual({ type: 'webhook', url: 'http://127.0.0.1:9000/hook', headers: { Authorization: 'Bearer secret' }, timeoutMs: 2000, concurrency: 4 });
    expect(routes[2]!.retry).toMatchObject({ initialMs: 100, maxMs: 10_000 });
    expect(JSON.stringify(describeRoute(routes[1]!))).not.toContain('secret');
    const withPassword = parseConfigDocument('f', { routes: [{ name: 'p', backend: { type: 'webhook', url: 'https://me:token@hooks.example/x' } }] }).routes[0]!;
    expect(JSON.stringify(describeRoute(withPassword))).not.toContain('token');
  });

  it('reads JSON too', () => {
    const path = write('routes.json', JSON.stringify({ routes: [{ name: 'a', backend: { type: 'file', path: '/tmp/a' } }] }));
    expect(loadConfigFile(path).routes).toHaveLength(1);
  });

  it.each<[string, unknown, string]>([
    ['a pair without =', { routes: [{ name: 'a', filter: 'tier', backend: { type: 'file', path: '/x' } }] }, 'routes[0].filter: invalid filter pattern: tier'],
    ['an unknown backend', { routes: [{ name: 'a', backend: { type: 'kafka' } }] }, 'routes[0].backend.type'],
    ['a relative file path', { routes: [{ name: 'a', backend: { type: 'file', path: 'x' } }] }, 'routes[0].backend.path: must be an absolute path'],
    ['a webhook that is not http', { routes: [{ name: 'a', backend: { type: 'webhook', url: 'ftp://x' } }] }, 'routes[0].backend.url'],
    ['an empty command', { routes: [{ name: 'a', backend: { type: 'command', command: [] } }] }, 'routes[0].backend.command'],
    ['a duplicate name', { routes: [{ name: 'a', backend: { type: 'file', path: '/x' } }, { name: 'a', backend: { type: 'file', path: '/y' } }] }, 'routes[1].name: duplicate route name "a"'],
    ['an unknown key', { routes: [{ name: 'a', backend: { type: 'file', path: '/x' }, filtr: 'a=b' }] }, 'routes[0]'],
    ['a bad name', { routes: [{ name: 'A B', backend: { type: 'file', path: '/x' } }] }, 'routes[0].name'],
  ])('refuses %s, naming the field', (_what, doc, message) => {
    expect(() => parseConfigDocument('/etc/berth.yaml', doc)).toThrow(message);
    expect(() => parseConfigDocument('/etc/berth.yaml', doc)).toThrow('config file /etc/berth.yaml is invalid');
  });

  it('is read once at start-up: --config or BERTH_CONFIG; a missing file stops the start', () => {
    const path = write('one.yaml', 'routes: [{ name: a, backend: { type: file, path: /tmp/a } }]');
    const ctx = { env: { BERTH_CONFIG: path }, uid: 1000, home: dir };
    expect(resolveConfig({ dataDir: dir }, ctx)).toMatchObject({ configFile: path, routes: [{ name: 'a' }] });
    expect(resolveConfig({ dataDir: dir }, { ...ctx, env: {} }).routes).toEqual([]);
    expect(() => resolveConfig({ dataDir: dir, config: join(dir, 'nope.yaml') }, ctx)).toThrow(/config file .*nope.yaml cannot be read/);
  });
});

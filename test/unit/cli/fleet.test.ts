import { describe, expect, it } from 'vitest';
import { fleetTable } from '../../../src/cli/commands/fleet.js';
import { FakeEtcd } from '../../../src/fleet/fake-etcd.js';
import { fleetView } from '../../../src/fleet/fleet-view.js';
import { systemClock } from '../../../src/util/clock.js';
import { cli } from './support.js';

const NOW = Date.parse('2026-01-01T01:00:00.000Z');

async function fleetKeys(): Promise<FakeEtcd> {
  const etcd = new FakeEtcd(systemClock);
  const lease = await etcd.grantLease(3_600);
  await etcd.put('/berth/hosts/a/alive', JSON.stringify({ agentId: 'agent-a', version: '0.1.0', startedAt: '2026-01-01T00:55:00.000Z' }), { lease });
  await etcd.put('/berth/hosts/a/tasks/web', '{}');
  await etcd.put('/berth/hosts/a/tasks/db', 'family: db');
  await etcd.put('/berth/hosts/a/status/arn:berth:task/web:1', JSON.stringify({ knownStatus: 'RUNNING' }));
  await etcd.put('/berth/hosts/a/status/arn:berth:task/db:1', JSON.stringify({ knownStatus: 'STOPPED' }));
  // A dead host: its lease ran out, its keys stay.
  await etcd.put('/berth/hosts/b/tasks/web', '{}');
  await etcd.put('/berth/hosts/b/status/arn:berth:task/web:1', JSON.stringify({ knownStatus: 'RUNNING' }));
  await etcd.put('/berth/hosts/b/status/arn:berth:task/junk', 'not json');
  await etcd.put('/other/hosts/c/alive', '{}');
  return etcd;
}

describe('agent fleet ls', () => {
  it('shows each host: alive or not, its agent, task keys and reported statuses', async () => {
    const etcd = await fleetKeys();
    const hosts = fleetView('/berth', (await etcd.range('/berth/hosts/')).kvs);
    expect(hosts).toEqual([
      { host: 'a', alive: true, agentId: 'agent-a', version: '0.1.0', startedAt: '2026-01-01T00:55:00.000Z', tasks: 2, statuses: { RUNNING: 1, STOPPED: 1 } },
      { host: 'b', alive: false, tasks: 1, statuses: { RUNNING: 1, UNREADABLE: 1 } },
    ]);
    expect(fleetTable(hosts, '/berth', NOW)).toBe(
      [
        'HOST  ALIVE  AGENT    VERSION  UP  TASKS  STATUS',
        'a     yes    agent-a  0.1.0    5m  2      RUNNING 1, STOPPED 1',
        'b     no     -        -        -   1      RUNNING 1, UNREADABLE 1',
      ].join('\n'),
    );
    expect(fleetTable([], '/berth', NOW)).toBe('no hosts under /berth/hosts/');
  });

  it('needs endpoints (exit 2) and says so when etcd does not answer (exit 3)', async () => {
    const none = await cli(['fleet', 'ls']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('give the etcd endpoints with --etcd-endpoints');
    const down = await cli(['fleet', 'ls', '--etcd-endpoints', 'http://127.0.0.1:1']);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/etcd at http:\/\/127\.0\.0\.1:1 did not answer/);
  });
});

import type { Command } from 'commander';
import { errorMessage } from '../../errors.js';
import { gatewayClient } from '../../fleet/etcd-gateway-client.js';
import { fleetView, type FleetHost } from '../../fleet/fleet-view.js';
import { hostsPrefix } from '../../fleet/keys.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { CliContext } from '../io.js';
import { age, table } from '../render/format.js';
import { examples } from './shared.js';

interface FleetFlags {
  readonly etcdEndpoints?: string;
  readonly etcdPrefix?: string;
  readonly etcdCa?: string;
  readonly etcdCert?: string;
  readonly etcdKey?: string;
  readonly json?: boolean;
}

export function registerFleetCommand(program: Command, ctx: CliContext): void {
  const fleet = program.command('fleet').description('the fleet on etcd: what every host was given and reports (read-only)');
  examples(
    fleet
      .command('ls')
      .description('hosts under <prefix>/hosts/ in etcd: alive or not, their task keys and their reported statuses')
      .option('--etcd-endpoints <urls>', 'etcd client URLs, comma-separated (env BERTH_ETCD_ENDPOINTS)')
      .option('--etcd-prefix <prefix>', "the fleet's key prefix (env BERTH_ETCD_PREFIX; default /berth)")
      .option('--etcd-ca <file>', 'CA certificate for https:// endpoints (env BERTH_ETCD_CA)')
      .option('--etcd-cert <file>', 'client certificate (env BERTH_ETCD_CERT)')
      .option('--etcd-key <file>', 'client key (env BERTH_ETCD_KEY)')
      .option('--json', 'print the hosts as JSON'),
    'agent fleet ls --etcd-endpoints http://10.0.0.1:2379,http://10.0.0.2:2379',
    "agent fleet ls --etcd-endpoints http://127.0.0.1:2379 --json | jq '.[] | select(.alive | not)'",
  ).action(async (flags: FleetFlags) => {
    const { json, ...etcdFlags } = flags;
    const etcd = ctx.config(etcdFlags).etcd;
    if (!etcd) throw new CliError('give the etcd endpoints with --etcd-endpoints (or BERTH_ETCD_ENDPOINTS)', EXIT.usage);
    const client = gatewayClient({ endpoints: etcd.endpoints, ...(etcd.tls ? { tls: etcd.tls } : {}) });
    let hosts: FleetHost[];
    try {
      hosts = fleetView(etcd.prefix, (await client.range(hostsPrefix(etcd.prefix))).kvs);
    } catch (error) {
      throw new CliError(`etcd at ${etcd.endpoints.join(',')} did not answer: ${errorMessage(error)}`, EXIT.unreachable);
    } finally {
      await client.close();
    }
    if (json) return ctx.json(hosts);
    ctx.out(fleetTable(hosts, etcd.prefix, ctx.now()));
  });
}

export function fleetTable(hosts: readonly FleetHost[], prefix: string, now: number): string {
  if (hosts.length === 0) return `no hosts under ${hostsPrefix(prefix)}`;
  return table(
    ['HOST', 'ALIVE', 'AGENT', 'VERSION', 'UP', 'TASKS', 'STATUS'],
    hosts.map((h) => [
      h.host,
      h.alive ? 'yes' : 'no',
      h.agentId ?? '-',
      h.version ?? '-',
      h.alive && h.startedAt ? age(Date.parse(h.startedAt), now) : '-',
      String(h.tasks),
      Object.entries(h.statuses)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([status, n]) => `${status} ${n}`)
        .join(', ') || '-',
    ]),
  );
}

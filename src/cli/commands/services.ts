import type { Command } from 'commander';
import type { Service } from '../../services/service-of.js';
import type { ServiceRecord } from '../../services/services-index.js';
import { openNdjson } from '../client/ndjson.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { CliContext } from '../io.js';
import { shortId, table } from '../render/format.js';
import { api, examples, withClientFlags, type ClientFlags } from './shared.js';

interface ServicesFlags extends ClientFlags {
  readonly watch?: boolean;
}

type WatchLine = ServiceRecord | { readonly type: 'synced' };

export function registerServicesCommand(program: Command, ctx: CliContext): void {
  examples(
    withClientFlags(
      program
        .command('services')
        .description('list running containers as services (AD identifiers, hosts, ports, tags, pid, health); --json prints the API answer')
        .option('--watch', 'print every service as added, then added/removed records as they happen, until interrupted (Ctrl-C)'),
    ),
    'agent services',
    'agent services --watch --json',
  ).action(async (flags: ServicesFlags) => {
    const client = api(ctx, flags);
    if (!flags.watch) {
      const { body } = await client.send<{ services: Service[] }>('GET', '/v1/services');
      ctx.io.stdout.write(flags.json ? `${JSON.stringify(body)}\n` : `${servicesTable(body.services)}\n`);
      return;
    }
    const stream = await openNdjson(client.socketPath, '/v1/services?watch=1', (value) => {
      const line = value as WatchLine;
      ctx.io.stdout.write(`${flags.json ? JSON.stringify(line) : recordLine(line)}\n`);
    });
    const stop = (): void => stream.close();
    ctx.signal.addEventListener('abort', stop, { once: true });
    if (ctx.signal.aborted) stop();
    const { error } = await stream.ended;
    ctx.signal.removeEventListener('abort', stop);
    if (!ctx.signal.aborted) throw new CliError(`the agent ended the watch${error ? `: ${error.message}` : ''}`, EXIT.failure);
  });
}

export function servicesTable(services: readonly Service[]): string {
  return table(
    ['service', 'container', 'family', 'hosts', 'ports', 'health', 'pid', 'ad identifiers'],
    services.map((s) => [shortId(s.id), s.containerName, s.family, hostsText(s), s.ports.join(',') || '-', s.health, s.pid === undefined ? '-' : String(s.pid), s.adIdentifiers.join(',')]),
  );
}

function recordLine(line: WatchLine): string {
  if (line.type === 'synced') return '--- synced: every running service listed above; changes follow';
  const s = line.service;
  return `${line.type.padEnd(7)}  ${shortId(s.id)}  ${s.containerName}  ${hostsText(s)}  ports ${s.ports.join(',') || '-'}  ${s.health}`;
}

function hostsText(s: Service): string {
  const hosts = Object.entries(s.hosts).map(([network, address]) => `${network}=${address}`);
  return hosts.length === 0 ? '-' : hosts.join(',');
}

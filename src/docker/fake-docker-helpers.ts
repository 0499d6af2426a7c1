// Docker's rules that FakeDocker reproduces, kept out of its state machine.
import { DockerApiError } from '../errors.js';
import type { ContainerInfo, ContainerSpec } from './docker-client.js';

/** Docker's rule for container names. */
export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function hasLabels(labels: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): boolean {
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

/** An image as Docker's pull messages name it: with its tag, `latest` when none is given. Which image it is: normalizeImageReference. */
export function normalizeImage(image: string): string {
  if (image.includes('@')) return image;
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  return lastPart.includes(':') ? image : `${image}:latest`;
}

/** The one program the fake "runs": `sh -c "exit N"` exits with N as soon as it starts. */
export function immediateExitCode(spec: ContainerSpec): number | undefined {
  const argv = [...(spec.entryPoint ?? []), ...(spec.command ?? [])];
  if (argv.length !== 3 || !['sh', '/bin/sh'].includes(argv[0]!) || argv[1] !== '-c') return undefined;
  const match = /^\s*exit\s+(\d{1,3})\s*$/.exec(argv[2]!);
  return match ? Number(match[1]) : undefined;
}

/** A healthcheck Docker runs: `["NONE"]` turns the image's off. */
export function hasHealthCheck(spec: ContainerSpec): boolean {
  return spec.healthCheck !== undefined && spec.healthCheck.test[0] !== 'NONE';
}

/** `gate`, unless `signal` aborts first: then `error()`. */
export function raceAbort(gate: Promise<unknown>, signal: AbortSignal, error: () => Error): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(error());
    signal.addEventListener('abort', onAbort, { once: true });
    gate.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Docker 20.10's own log drivers; anything else would have to be a plugin, and the fake has none. */
const LOG_DRIVERS = new Set(['none', 'local', 'json-file', 'syslog', 'journald', 'gelf', 'fluentd', 'awslogs', 'splunk', 'gcplogs', 'logentries']);

/** What Docker refuses at create about the container's own settings (measured on Docker 20.10). */
export function checkSettingsAtCreate(spec: ContainerSpec): void {
  const driver = spec.logConfig?.type;
  if (driver !== undefined && !LOG_DRIVERS.has(driver)) {
    throw new DockerApiError('create', 400, `error looking up logging plugin ${driver}: plugin "${driver}" not found`);
  }
}

/** Docker's NetworkSettings.Networks: the mode's network, with the address a running container has on a bridge. */
export function networksOf(spec: ContainerSpec, ipAddress: string | undefined): Pick<ContainerInfo, 'networks'> {
  const mode = spec.networkMode ?? 'bridge';
  if (spec.networkDisabled || mode.startsWith('container:')) return {};
  return { networks: { [mode]: mode === 'bridge' && ipAddress ? { ipAddress } : {} } };
}

// Docker's rules that FakeDocker reproduces, kept out of its state machine.
import type { ContainerSpec } from './docker-client.js';

/** Docker's rule for container names. */
export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function hasLabels(labels: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): boolean {
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

/** `busybox` and `busybox:latest` are the same image, as in Docker. */
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

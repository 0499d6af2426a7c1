import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { expect } from 'vitest';
import type { ContainerSpec, DockerClient, DockerEvent, DockerHealth, HealthCheckSpec } from '../../src/docker/docker-client.js';

export interface DockerClientContractSetup {
  readonly client: DockerClient;
  /** An image the registry holds. The suite pulls it before creating containers. */
  readonly image: string;
  /** An image the registry holds that no other test uses: the suite pulls and removes it. */
  readonly disposableImage: string;
  /** An image reference no registry holds. */
  readonly missingImage: string;
  /** Put on every container the suite creates, so `cleanup` can find them. */
  readonly labels: Record<string, string>;
  /** True when containers really run: a published port is then fetched over 127.0.0.1. */
  readonly serves: boolean;
  /**
   * Gives a probe's verdict where nothing probes (the fake); absent where Docker runs the
   * healthcheck itself, which the suite then waits for.
   */
  readonly setHealth?: (id: string, health: DockerHealth) => void;
  /**
   * A network to attach containers to from outside, as `docker network connect` / `disconnect`
   * by someone else; its `name` is what inspect and network events call it.
   */
  readonly network: {
    readonly name: string;
    connect(id: string): Promise<void>;
    disconnect(id: string): Promise<void>;
  };
  /** A pull of `image` that stays in flight (`held` resolves once it is) until `release`. */
  holdPull(): Promise<{ image: string; held: Promise<void>; release(): Promise<void> }>;
  /** Removes every container, then every volume, that carries `labels`. */
  cleanup(): Promise<void>;
}

/** What the contract's cases share; `env` and `client` are there once the suite's beforeAll ran. */
export interface ContractContext {
  readonly env: DockerClientContractSetup;
  readonly client: DockerClient;
  /** Unique to this run of the suite, in every name it makes. */
  readonly run: string;
  /** A spec with a fresh name and a label unique to this one test, so event and list filters isolate it. */
  spec(overrides?: Partial<ContainerSpec>): ContainerSpec;
}

export const CASE_LABEL = 'contract.case';
/** Passes at once; on real Docker, probed every second. */
export const PASSING: HealthCheckSpec = { test: ['CMD-SHELL', 'true'], intervalMs: 1_000, timeoutMs: 1_000, retries: 3, startPeriodMs: 0 };
export const FAILING: HealthCheckSpec = { ...PASSING, test: ['CMD-SHELL', 'exit 1'], retries: 1 };

export function specFor(env: DockerClientContractSetup, name: string, overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name,
    image: env.image,
    command: ['sleep', '300'],
    env: {},
    labels: { ...env.labels, [CASE_LABEL]: randomUUID() },
    portMappings: [],
    stopTimeout: 1,
    ...overrides,
  };
}

/** Waits for Docker's verdict, or gives the fake's: then the events up to the health_status that reports it. */
export async function healthEvents(
  ctx: ContractContext,
  id: string,
  labels: Record<string, string>,
  createdAt: number,
  health: DockerHealth,
): Promise<DockerEvent[]> {
  ctx.env.setHealth?.(id, health);
  return collectEvents(ctx.client, labels, nanoBefore(createdAt), (e) => e.action === 'health_status');
}

/**
 * Every optional ContainerSpec setting that a plain container can take on a stock Docker host,
 * with values Docker keeps as given (the integration test reads each back through docker inspect).
 */
export function richSpec(): Partial<ContainerSpec> {
  return {
    healthCheck: PASSING,
    hostname: 'rich-box',
    // By number: the image's passwd need not know the user.
    user: '65534:65534',
    workingDir: '/tmp',
    tty: true,
    openStdin: true,
    networkMode: 'bridge',
    dns: ['127.0.0.1'],
    dnsSearch: ['berth.test'],
    extraHosts: ['db.berth.test:127.0.0.1'],
    cpuShares: 512,
    memoryBytes: 64 * 1024 * 1024,
    memoryReservationBytes: 32 * 1024 * 1024,
    memorySwapBytes: 128 * 1024 * 1024,
    memorySwappiness: 10,
    ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }],
    readonlyRootfs: true,
    securityOpt: ['no-new-privileges'],
    sysctls: { 'net.core.somaxconn': '1024' },
    init: true,
    shmSizeBytes: 32 * 1024 * 1024,
    tmpfs: { '/scratch': 'rw,size=16m' },
    capAdd: ['NET_ADMIN'],
    capDrop: ['MKNOD'],
    devices: [{ hostPath: '/dev/null', containerPath: '/dev/berth-null', permissions: 'rwm' }],
    logConfig: { type: 'json-file', config: { 'max-size': '1m', 'max-file': '2' } },
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A nanosecond timestamp one second before `ms`, as `sinceNano`: implementations stamp events and containers with one clock. */
export function nanoBefore(ms: number): string {
  return String(BigInt(ms - 1000) * 1_000_000n);
}

/** Events until `until` matches (included), or until the time limit, so a missing event fails the test instead of hanging it. */
export async function collectEvents(
  client: DockerClient,
  labels: Record<string, string>,
  sinceNano: string,
  until: (e: DockerEvent) => boolean,
  limitMs = 20_000,
): Promise<DockerEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limitMs);
  const events: DockerEvent[] = [];
  try {
    for await (const e of client.containerEvents({ labels, sinceNano, signal: controller.signal })) {
      events.push(e);
      if (until(e)) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

export function expectAscending(events: readonly DockerEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    expect(BigInt(events[i]!.timeNano)).toBeGreaterThanOrEqual(BigInt(events[i - 1]!.timeNano));
  }
}

export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, limitMs = 10_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The server inside the container needs a moment to bind after start. */
export async function fetchText(url: string, limitMs = 15_000): Promise<string> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return await res.text();
      if (Date.now() > deadline) throw new Error(`GET ${url}: HTTP ${res.status}`);
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

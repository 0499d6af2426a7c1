import Docker from 'dockerode';
import type { PortBinding, Protocol } from '../api/task.js';
import {
  BerthError,
  ConfigError,
  ContainerNotFoundError,
  DockerApiError,
  DockerTimeoutError,
  DockerUnavailableError,
  ImageNotFoundError,
  ImagePullError,
  NameConflictError,
  errorMessage,
} from '../errors.js';
import type {
  ContainerInfo,
  ContainerSpec,
  ContainerSummary,
  DockerClient,
  DockerContainerState,
  DockerEvent,
  DockerVersion,
  EventStreamOptions,
  PullOptions,
} from './docker-client.js';
import { dockerSinceAfter, ndjsonLines, parseEventLine } from './event-lines.js';

export interface DockerodeClientOptions {
  /** Path of Docker's Unix socket. Default /var/run/docker.sock when neither this nor `host` is set. */
  readonly socketPath?: string;
  /** DOCKER_HOST style: `unix:///var/run/docker.sock` or `tcp://127.0.0.1:2375` (plain HTTP). */
  readonly host?: string;
  /** Deadline for every call that is not a stream; for the event stream, the deadline to connect. */
  readonly timeoutMs: number;
  /** Deadline for a whole pull, progress stream included. */
  readonly pullTimeoutMs: number;
}

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** Where Docker is, from DOCKER_HOST when set. */
export function dockerOptionsFromEnv(env: NodeJS.ProcessEnv): { socketPath?: string; host?: string } {
  const host = env.DOCKER_HOST?.trim();
  return host ? { host } : { socketPath: DEFAULT_DOCKER_SOCKET };
}

type Endpoint =
  | { readonly kind: 'unix'; readonly socketPath: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

function parseEndpoint(options: DockerodeClientOptions): Endpoint {
  if (options.socketPath !== undefined && options.host !== undefined) {
    throw new ConfigError('give either a Docker socket path or a Docker host, not both');
  }
  if (options.host === undefined) return { kind: 'unix', socketPath: options.socketPath ?? DEFAULT_DOCKER_SOCKET };
  const host = options.host;
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new ConfigError(`Docker host ${host} must name an absolute socket path`);
    return { kind: 'unix', socketPath };
  }
  const match = /^(?:tcp|http):\/\/([^/:]+|\[[^\]]+\]):(\d{1,5})\/?$/.exec(host);
  if (match) return { kind: 'tcp', host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) };
  throw new ConfigError(
    `unsupported Docker host ${JSON.stringify(host)}: use unix:///path/to/docker.sock or tcp://host:port (TLS and ssh are not supported)`,
  );
}

/** Error shapes dockerode and Node's http client produce. */
interface WireError {
  statusCode?: unknown;
  code?: unknown;
  json?: unknown;
  message?: unknown;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

function statusOf(err: unknown): number | undefined {
  const status = (err as WireError | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Docker's own message when it sent one, not dockerode's "(HTTP code 404) no such container - ..." wrapper. */
function detailOf(err: unknown): string {
  const json = (err as WireError | null)?.json;
  if (json && typeof json === 'object' && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message;
  }
  return errorMessage(err);
}

function isUnreachable(err: unknown): boolean {
  const code = (err as WireError | null)?.code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  return statusOf(err) === undefined && /socket hang up/i.test(errorMessage(err));
}

/**
 * dockerode 4 calls that @types/dockerode types too narrowly: these take an `abortSignal`, and
 * `since` may be Docker's `seconds.nanoseconds` string.
 */
interface LooselyTypedCalls {
  ping(options: { abortSignal: AbortSignal }): Promise<unknown>;
  version(options: { abortSignal: AbortSignal }): Promise<Docker.DockerVersion>;
  getEvents(options: {
    filters: Record<string, string[]>;
    since?: string;
    abortSignal: AbortSignal;
  }): Promise<NodeJS.ReadableStream>;
}

export class DockerodeClient implements DockerClient {
  private readonly docker: Docker;
  private readonly loose: LooselyTypedCalls;
  private readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly pullTimeoutMs: number;

  constructor(options: DockerodeClientOptions) {
    for (const key of ['timeoutMs', 'pullTimeoutMs'] as const) {
      if (!Number.isFinite(options[key]) || options[key] <= 0) {
        throw new ConfigError(`${key} must be a positive number of milliseconds, got ${options[key]}`);
      }
    }
    this.timeoutMs = options.timeoutMs;
    this.pullTimeoutMs = options.pullTimeoutMs;
    const endpoint = parseEndpoint(options);
    this.endpoint = endpoint.kind === 'unix' ? `unix://${endpoint.socketPath}` : `tcp://${endpoint.host}:${endpoint.port}`;
    // Every connection setting is spelled out: docker-modem otherwise merges in DOCKER_HOST,
    // DOCKER_TLS_VERIFY and DOCKER_CLIENT_TIMEOUT from the environment, and its `timeout` is an idle
    // timeout that would cut quiet event streams. Deadlines are enforced here instead.
    this.docker = new Docker(
      endpoint.kind === 'unix'
        ? { socketPath: endpoint.socketPath, host: undefined, port: undefined, protocol: 'http', timeout: undefined }
        : { socketPath: undefined, host: endpoint.host, port: endpoint.port, protocol: 'http', timeout: undefined },
    );
    this.loose = this.docker as unknown as LooselyTypedCalls;
  }

  async ping(): Promise<void> {
    await this.call('ping', (signal) => this.loose.ping({ abortSignal: signal }));
  }

  async version(): Promise<DockerVersion> {
    const v = await this.call('version', (signal) => this.loose.version({ abortSignal: signal }));
    return { version: v.Version, apiVersion: v.ApiVersion };
  }

  async pullImage(image: string, options: PullOptions = {}): Promise<void> {
    await this.call(
      'pull',
      async (signal) => {
        const stream = (await this.docker.pull(image, { abortSignal: signal })) as NodeJS.ReadableStream &
          AsyncIterable<Buffer>;
        // Destroyed explicitly on deadline rather than trusting the request's abort to reach a response already streaming.
        const destroy = (): void => (stream as unknown as { destroy(): void }).destroy();
        signal.addEventListener('abort', destroy, { once: true });
        try {
          for await (const line of ndjsonLines(stream)) {
            const progress = parseProgressLine(line);
            if (progress.error !== undefined) throw new ImagePullError(image, progress.error);
            options.onProgress?.(progress.progress);
          }
        } finally {
          signal.removeEventListener('abort', destroy);
          destroy();
        }
      },
      {
        timeoutMs: this.pullTimeoutMs,
        // Refusals (unknown repository, denied, registry down) come back as HTTP errors before the stream.
        map: (err) => (statusOf(err) !== undefined ? new ImagePullError(image, detailOf(err), { cause: err }) : undefined),
      },
    );
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const exposedPorts: Record<string, object> = {};
    const portBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
    for (const mapping of spec.portMappings) {
      const key = `${mapping.containerPort}/${mapping.protocol}`;
      exposedPorts[key] = {};
      (portBindings[key] ??= []).push({
        HostIp: mapping.hostIp,
        HostPort: mapping.hostPort === undefined ? '' : String(mapping.hostPort),
      });
    }
    const container = await this.call(
      'create',
      (signal) =>
        this.docker.createContainer({
          name: spec.name,
          Image: spec.image,
          ...(spec.command ? { Cmd: [...spec.command] } : {}),
          ...(spec.entryPoint ? { Entrypoint: [...spec.entryPoint] } : {}),
          Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
          Labels: { ...spec.labels },
          StopTimeout: spec.stopTimeout,
          ExposedPorts: exposedPorts,
          HostConfig: { PortBindings: portBindings },
          abortSignal: signal,
        }),
      {
        map: (err) => {
          const status = statusOf(err);
          if (status === 409) return new NameConflictError(spec.name, { cause: err });
          if (status === 404 && /image/i.test(detailOf(err))) return new ImageNotFoundError(spec.image, { cause: err });
          return undefined;
        },
      },
    );
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    await this.call('start', (signal) => this.container(id).start({ abortSignal: signal }), {
      map: this.containerErrors(id),
    });
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.call('stop', (signal) => this.container(id).stop({ t: timeoutSeconds, abortSignal: signal }), {
      map: this.containerErrors(id),
    });
  }

  async removeContainer(id: string): Promise<void> {
    // Not forced: the engine stops containers itself; removing a running one is a 409 DockerApiError.
    await this.call('remove', (signal) => this.container(id).remove({ v: true, abortSignal: signal }), {
      map: this.containerErrors(id),
    });
  }

  async inspectContainer(idOrName: string): Promise<ContainerInfo> {
    const info = await this.call('inspect', (signal) => this.container(idOrName).inspect({ abortSignal: signal }), {
      map: this.containerErrors(idOrName),
    });
    const state = info.State.Status as DockerContainerState;
    const stopped = state === 'exited' || state === 'dead';
    const ports = (info.NetworkSettings?.Ports ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
    return {
      id: info.Id,
      name: info.Name.replace(/^\//, ''),
      image: info.Config.Image,
      state,
      ...(stopped ? { exitCode: info.State.ExitCode } : {}),
      oomKilled: info.State.OOMKilled === true,
      labels: { ...(info.Config.Labels ?? {}) },
      portBindings: toPortBindings(ports),
      ...optionalTime('createdAt', info.Created),
      ...optionalTime('startedAt', info.State.StartedAt),
      ...optionalTime('finishedAt', info.State.FinishedAt),
    };
  }

  async listContainers(labels: Readonly<Record<string, string>>): Promise<ContainerSummary[]> {
    const wanted = Object.entries(labels);
    const list = await this.call('list', (signal) =>
      this.docker.listContainers({
        all: true,
        filters: { label: wanted.map(([key, value]) => `${key}=${value}`) },
        abortSignal: signal,
      }),
    );
    return list
      .filter((c) => wanted.every(([key, value]) => c.Labels?.[key] === value))
      .map((c) => ({
        id: c.Id,
        name: (c.Names[0] ?? '').replace(/^\//, ''),
        state: c.State as DockerContainerState,
        labels: { ...(c.Labels ?? {}) },
      }));
  }

  async *containerEvents(options: EventStreamOptions): AsyncGenerator<DockerEvent> {
    const { signal } = options;
    if (signal.aborted) return;
    const since = options.sinceNano === undefined ? undefined : dockerSinceAfter(options.sinceNano);
    const filters = {
      type: ['container'],
      label: Object.entries(options.labels).map(([key, value]) => `${key}=${value}`),
    };
    // One controller for the whole stream: the caller's abort ends it at any time, the deadline
    // only while connecting.
    const request = new AbortController();
    const onAbort = (): void => request.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let stream: (NodeJS.ReadableStream & AsyncIterable<Buffer>) | undefined;
    try {
      try {
        stream = (await this.call('events', () =>
          this.loose.getEvents({ filters, ...(since ? { since } : {}), abortSignal: request.signal }),
        { abortOnTimeout: request })) as NodeJS.ReadableStream & AsyncIterable<Buffer>;
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
      options.onOpen?.();
      for await (const line of ndjsonLines(stream)) {
        const event = parseEventLine(line);
        if (event) yield event;
      }
    } catch (err) {
      if (signal.aborted) return;
      throw this.toBerthError('events', err);
    } finally {
      signal.removeEventListener('abort', onAbort);
      (stream as unknown as { destroy?(): void } | undefined)?.destroy?.();
    }
  }

  private container(idOrName: string): Docker.Container {
    // dockerode puts the reference into the URL path unescaped.
    return this.docker.getContainer(encodeURIComponent(idOrName));
  }

  private containerErrors(ref: string): (err: unknown) => BerthError | 'ok' | undefined {
    return (err) => {
      const status = statusOf(err);
      if (status === 404) return new ContainerNotFoundError(ref, { cause: err });
      // Already started / already stopped: the state the caller asked for holds.
      if (status === 304) return 'ok';
      return undefined;
    };
  }

  /**
   * Runs one Docker call under a deadline and translates whatever it throws. dockerode's own
   * `timeout` is an idle timeout and does not cover a daemon that accepts but never answers, so
   * the deadline is a timer race that also aborts the request.
   */
  private async call<T>(
    operation: string,
    run: (signal: AbortSignal) => Promise<T>,
    options: {
      timeoutMs?: number;
      map?: (err: unknown) => BerthError | 'ok' | undefined;
      abortOnTimeout?: AbortController;
    } = {},
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const controller = options.abortOnTimeout ?? new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new DockerTimeoutError(operation, timeoutMs));
        controller.abort();
      }, timeoutMs);
    });
    try {
      return await Promise.race([run(controller.signal), deadline]);
    } catch (err) {
      if (err instanceof BerthError) throw err;
      const mapped = isUnreachable(err) ? undefined : options.map?.(err);
      if (mapped === 'ok') return undefined as T;
      throw mapped ?? this.toBerthError(operation, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private toBerthError(operation: string, err: unknown): BerthError {
    if (err instanceof BerthError) return err;
    if (isUnreachable(err)) {
      return new DockerUnavailableError(`cannot reach Docker at ${this.endpoint} (${operation}): ${errorMessage(err)}`, {
        cause: err,
      });
    }
    return new DockerApiError(operation, statusOf(err), detailOf(err), { cause: err });
  }
}

interface ProgressLine {
  status?: unknown;
  id?: unknown;
  error?: unknown;
  errorDetail?: { message?: unknown };
  progressDetail?: { current?: unknown; total?: unknown };
}

function parseProgressLine(line: string): {
  progress: { id?: string; status: string; current?: number; total?: number };
  error?: string;
} {
  let raw: ProgressLine;
  try {
    raw = JSON.parse(line) as ProgressLine;
  } catch {
    // Docker writes only JSON here; anything else is passed on rather than failing a pull that may succeed.
    return { progress: { status: line } };
  }
  const error =
    typeof raw.error === 'string' && raw.error
      ? raw.error
      : typeof raw.errorDetail?.message === 'string' && raw.errorDetail.message
        ? raw.errorDetail.message
        : raw.errorDetail !== undefined || raw.error !== undefined
          ? 'the pull reported an error'
          : undefined;
  const { current, total } = raw.progressDetail ?? {};
  return {
    progress: {
      ...(typeof raw.id === 'string' ? { id: raw.id } : {}),
      status: typeof raw.status === 'string' ? raw.status : '',
      ...(typeof current === 'number' ? { current } : {}),
      ...(typeof total === 'number' ? { total } : {}),
    },
    ...(error !== undefined ? { error } : {}),
  };
}

const DOCKER_ZERO_TIME = /^0001-01-01T/;

function optionalTime<K extends string>(key: K, value: string | undefined): { [P in K]?: number } {
  if (!value || DOCKER_ZERO_TIME.test(value)) return {};
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? {} : ({ [key]: ms } as { [P in K]?: number });
}

function toPortBindings(ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null>): PortBinding[] {
  const bindings: PortBinding[] = [];
  for (const [key, hosts] of Object.entries(ports)) {
    const [port, protocol] = key.split('/');
    if (!hosts || (protocol !== 'tcp' && protocol !== 'udp')) continue;
    for (const host of hosts) {
      const hostPort = Number(host.HostPort);
      if (!Number.isInteger(hostPort) || hostPort <= 0) continue;
      bindings.push({ containerPort: Number(port), hostPort, protocol: protocol as Protocol, hostIp: host.HostIp });
    }
  }
  return bindings;
}

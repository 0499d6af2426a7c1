import Docker from 'dockerode';
import {
  BerthError,
  ConfigError,
  ContainerNotFoundError,
  ContainerNotRunningError,
  DockerApiError,
  DockerTimeoutError,
  DockerUnavailableError,
  ImageConflictError,
  ImageNotFoundError,
  DockerEndpointRefusedError,
  ImagePullError,
  NameConflictError,
  PullCancelledError,
  VolumeNotFoundError,
  errorMessage,
} from '../errors.js';
import { toCreateOptions } from './container-config.js';
import { isZeroRead, toContainerStats, type DockerStatsJson } from './container-stats.js';
import type {
  ContainerInfo,
  ContainerSpec,
  ContainerStats,
  ContainerSummary,
  DockerClient,
  DockerContainerState,
  DockerEvent,
  DockerOperation,
  DockerVersion,
  EventStreamOptions,
  NetworkEvent,
  NetworkEventStreamOptions,
  ImageInfo,
  LogChunk,
  LogOptions,
  PullOptions,
  VolumeInfo,
  VolumeSpec,
} from './docker-client.js';
import { endpointUrl, parseEndpoint, type TlsFiles } from './docker-endpoint.js';
import { connectionOptions, withoutDockerEnv, type SshAuth } from './remote-connection.js';
import { dockerSinceAfter, ndjsonLines, parseEventLine, parseNetworkEventLine } from './event-lines.js';
import { toContainerInfo, toImageInfo, toVolumeInfo } from './inspect.js';
import { demuxLogFrames, rawLogChunks } from './log-frames.js';
import { parseProgressLine } from './pull-progress-line.js';
import { pullRefusalDetail, toAuthConfig } from './registry-auth/wire.js';
import { containerReferenceOf, detailOf, endpointRefusalOf, isUnreachable, portConflictOf, settingsRefusalOf, statusOf } from './wire-errors.js';

export { DEFAULT_DOCKER_SOCKET, dockerOptionsFromEnv } from './docker-endpoint.js';

export interface DockerodeClientOptions {
  /** Path of Docker's Unix socket. Default /var/run/docker.sock when neither this nor `host` is set. */
  readonly socketPath?: string;
  /** DOCKER_HOST style: `unix:///var/run/docker.sock`, `tcp://127.0.0.1:2376` or `ssh://user@host:port`. */
  readonly host?: string;
  /** A `tcp://` host spoken to over TLS with these files (server verified against `ca`, `cert`/`key` ours). */
  readonly tls?: TlsFiles;
  /** How an `ssh://` host is logged in to and its host key checked. */
  readonly ssh?: SshAuth;
  /**
   * Deadline for every call that is not a stream; for the event stream, the deadline to connect;
   * for a stop, the deadline on top of the grace period the stop asks for.
   */
  readonly timeoutMs: number;
  /**
   * Deadline for a whole pull, progress stream included. Absent: none here; the agent's
   * ImagePuller enforces its configured pull timeouts through the pull's signal.
   */
  readonly pullTimeoutMs?: number;
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

/** docker-modem's request call, which dockerode's `logs` wraps but answers a Buffer instead of a stream unless following. */
interface DialingModem {
  dial(
    options: {
      path: string;
      method: 'GET';
      isStream: true;
      abortSignal: AbortSignal;
      statusCodes: Record<number, true | string>;
      options: Record<string, string | number | boolean>;
    },
    callback: (err: unknown, data: unknown) => void,
  ): void;
}

/** @types/dockerode knows neither `one-shot` nor the abort signal of a stats call. */
interface OneShotStats {
  stats(options: { stream: false; 'one-shot': true; abortSignal: AbortSignal }): Promise<DockerStatsJson>;
}

type ErrorMap = (err: unknown) => BerthError | 'ok' | undefined;

interface CallOptions {
  timeoutMs?: number;
  map?: ErrorMap;
  abortOnTimeout?: AbortController;
  /** The caller's own abort: the call ends at once with `error()`. */
  cancel?: { readonly signal: AbortSignal | undefined; readonly error: () => BerthError };
}

export class DockerodeClient implements DockerClient {
  private readonly docker: Docker;
  private readonly loose: LooselyTypedCalls;
  private readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly pullTimeoutMs: number | undefined;

  constructor(options: DockerodeClientOptions) {
    for (const key of ['timeoutMs', 'pullTimeoutMs'] as const) {
      const value = options[key];
      if (value === undefined && key === 'pullTimeoutMs') continue;
      if (value === undefined || !Number.isFinite(value) || value <= 0) {
        throw new ConfigError(`${key} must be a positive number of milliseconds, got ${value}`);
      }
    }
    this.timeoutMs = options.timeoutMs;
    this.pullTimeoutMs = options.pullTimeoutMs;
    const endpoint = parseEndpoint(options);
    this.endpoint = endpointUrl(endpoint);
    const connection = connectionOptions(endpoint, options.ssh);
    this.docker = withoutDockerEnv(() => new Docker(connection as Docker.DockerOptions));
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
    const { auth } = options;
    // A registry's 401 says whether credentials were sent (the header never reaches an error or a log).
    const refused = (detail: string, cause?: unknown): ImagePullError =>
      new ImagePullError(image, pullRefusalDetail(image, detail, auth !== undefined), cause === undefined ? {} : { cause });
    await this.call(
      'pull',
      async (signal) => {
        // docker-modem sends `authconfig` as the X-Registry-Auth header, never in the URL.
        const stream = (await this.docker.pull(image, {
          abortSignal: signal,
          ...(auth ? { authconfig: toAuthConfig(auth) } : {}),
        })) as NodeJS.ReadableStream & AsyncIterable<Buffer>;
        // Destroyed explicitly on deadline or cancel rather than trusting the request's abort to
        // reach a response already streaming.
        const destroy = (): void => (stream as unknown as { destroy(): void }).destroy();
        signal.addEventListener('abort', destroy, { once: true });
        try {
          for await (const line of ndjsonLines(stream)) {
            const progress = parseProgressLine(line);
            if (progress.error !== undefined) throw refused(progress.error);
            options.onProgress?.(progress.progress);
          }
        } finally {
          signal.removeEventListener('abort', destroy);
          destroy();
        }
      },
      {
        timeoutMs: this.pullTimeoutMs ?? Number.POSITIVE_INFINITY,
        // Refusals (unknown repository, denied, registry down) come back as HTTP errors before the stream.
        map: (err) => (statusOf(err) !== undefined ? refused(detailOf(err), err) : undefined),
        cancel: { signal: options.signal, error: () => new PullCancelledError(image) },
      },
    );
  }

  async inspectImage(ref: string): Promise<ImageInfo> {
    const info = await this.call('image-inspect', () => this.image(ref).inspect(), {
      map: (err) => (statusOf(err) === 404 ? new ImageNotFoundError(ref, { cause: err }) : undefined),
    });
    return toImageInfo(info);
  }

  async listImages(): Promise<ImageInfo[]> {
    const images = await this.call('image-list', (signal) => this.docker.listImages({ abortSignal: signal }));
    return images.map(toImageInfo);
  }

  async removeImage(ref: string): Promise<void> {
    await this.call('image-remove', (signal) => this.image(ref).remove({ abortSignal: signal }), {
      map: (err) => {
        const status = statusOf(err);
        if (status === 404) return 'ok';
        return status === 409 ? new ImageConflictError(ref, detailOf(err), { cause: err }) : undefined;
      },
    });
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const container = await this.call(
      'create',
      (signal) => this.docker.createContainer({ ...toCreateOptions(spec), abortSignal: signal }),
      {
        map: (err) => {
          const status = statusOf(err);
          if (status === 409) return new NameConflictError(spec.name, { cause: err });
          if (status === 404 && /image/i.test(detailOf(err))) return new ImageNotFoundError(spec.image, { cause: err });
          return portConflictOf('create', err) ?? containerReferenceOf('create', spec.name, err);
        },
      },
    );
    return container.id;
  }

  async startContainer(id: string): Promise<void> {
    const notFound = this.containerErrors(id);
    await this.call('start', (signal) => this.container(id).start({ abortSignal: signal }), {
      // Before the 404 rule: a `container:` network mode naming a missing container is a 404 too.
      map: (err) =>
        portConflictOf('start', err) ?? containerReferenceOf('start', id, err) ?? settingsRefusalOf('start', err) ?? notFound(err),
    });
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.call('stop', (signal) => this.container(id).stop({ t: timeoutSeconds, abortSignal: signal }), {
      // Docker answers only once the container is gone: after up to `timeoutSeconds` of grace.
      timeoutMs: Math.max(0, timeoutSeconds) * 1000 + this.timeoutMs,
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
    return toContainerInfo(info);
  }

  async listContainers(labels: Readonly<Record<string, string>>): Promise<ContainerSummary[]> {
    const wanted = Object.entries(labels);
    const list = await this.call('list', (signal) =>
      this.docker.listContainers({ all: true, filters: { label: labelFilter(labels) }, abortSignal: signal }),
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

  containerEvents(options: EventStreamOptions): AsyncGenerator<DockerEvent> {
    return this.eventStream('events', { type: ['container'], label: labelFilter(options.labels) }, options, parseEventLine);
  }

  networkEvents(options: NetworkEventStreamOptions): AsyncGenerator<NetworkEvent> {
    return this.eventStream('network-events', { type: ['network'], event: ['connect', 'disconnect'] }, options, parseNetworkEventLine);
  }

  private async *eventStream<E>(
    operation: DockerOperation,
    filters: Record<string, string[]>,
    options: NetworkEventStreamOptions,
    parse: (line: string) => E | undefined,
  ): AsyncGenerator<E> {
    const { signal } = options;
    if (signal.aborted) return;
    const since = options.sinceNano === undefined ? undefined : dockerSinceAfter(options.sinceNano);
    // One controller for the whole stream: the caller's abort ends it at any time, the deadline
    // only while connecting.
    const request = new AbortController();
    const onAbort = (): void => request.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let stream: (NodeJS.ReadableStream & AsyncIterable<Buffer>) | undefined;
    try {
      try {
        stream = (await this.call(operation, () =>
          this.loose.getEvents({ filters, ...(since ? { since } : {}), abortSignal: request.signal }),
        { abortOnTimeout: request })) as NodeJS.ReadableStream & AsyncIterable<Buffer>;
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
      options.onOpen?.();
      for await (const line of ndjsonLines(stream)) {
        const event = parse(line);
        if (event) yield event;
      }
    } catch (err) {
      if (signal.aborted) return;
      throw this.toBerthError(operation, err);
    } finally {
      signal.removeEventListener('abort', onAbort);
      (stream as unknown as { destroy?(): void } | undefined)?.destroy?.();
    }
  }

  async *containerLogs(idOrName: string, options: LogOptions): AsyncGenerator<LogChunk> {
    const { signal } = options;
    if (signal.aborted) return;
    const notFound = this.containerErrors(idOrName);
    // As for events: the caller's abort ends the stream at any time, the deadline only while connecting.
    const request = new AbortController();
    const onAbort = (): void => request.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let stream: (NodeJS.ReadableStream & AsyncIterable<Buffer>) | undefined;
    try {
      // Only a container without a TTY has its streams multiplexed; Docker's answer does not say which it is.
      const tty = await this.call('logs', (s) => this.container(idOrName).inspect({ abortSignal: s }), { map: notFound });
      stream = await this.call('logs', () => this.openLogs(idOrName, options, request.signal), { abortOnTimeout: request, map: notFound });
      options.onOpen?.();
      yield* tty.Config.Tty ? rawLogChunks(stream) : demuxLogFrames(stream);
    } catch (err) {
      if (signal.aborted) return;
      throw this.toBerthError('logs', err);
    } finally {
      signal.removeEventListener('abort', onAbort);
      (stream as unknown as { destroy?(): void } | undefined)?.destroy?.();
    }
  }

  private openLogs(idOrName: string, options: LogOptions, signal: AbortSignal): Promise<NodeJS.ReadableStream & AsyncIterable<Buffer>> {
    const query: Record<string, string | number | boolean> = {
      follow: options.follow,
      stdout: true,
      stderr: true,
      timestamps: options.timestamps,
      tail: options.tail ?? 'all',
    };
    // Docker's `since` is Unix seconds with a fraction; lines at exactly that moment are included.
    if (options.sinceMs !== undefined) query.since = `${Math.floor(options.sinceMs / 1000)}.${String(options.sinceMs % 1000).padStart(3, '0')}`;
    return new Promise((resolve, reject) =>
      (this.docker.modem as DialingModem).dial(
        {
          path: `/containers/${encodeURIComponent(idOrName)}/logs?`,
          method: 'GET',
          isStream: true,
          abortSignal: signal,
          statusCodes: { 200: true, 404: 'no such container', 500: 'server error', 501: 'not implemented' },
          options: query,
        },
        (err, data) => (err ? reject(err) : resolve(data as NodeJS.ReadableStream & AsyncIterable<Buffer>)),
      ),
    );
  }

  async containerStats(id: string, signal?: AbortSignal): Promise<ContainerStats> {
    // one-shot (API 1.41): Docker answers with one sample at once instead of waiting ~1 s for a second.
    const json = (await this.call(
      'stats',
      (abortSignal) =>
        (this.container(id) as unknown as OneShotStats).stats({ stream: false, 'one-shot': true, abortSignal }),
      {
        map: this.containerErrors(id),
        cancel: { signal, error: () => new DockerApiError('stats', undefined, 'cancelled by the caller') },
      },
    ));
    if (isZeroRead(json)) throw new ContainerNotRunningError(id);
    return toContainerStats(json);
  }

  async createVolume(spec: VolumeSpec): Promise<VolumeInfo> {
    const info = await this.call('volume-create', async (signal) => {
      // dockerode answers a create with a handle, not the volume; Docker's 201 carries the same
      // fields, but an inspect keeps one reading of them.
      const volume = await this.docker.createVolume({
        Name: spec.name,
        Driver: spec.driver ?? 'local',
        DriverOpts: { ...(spec.driverOpts ?? {}) },
        Labels: { ...(spec.labels ?? {}) },
        abortSignal: signal,
      });
      return (await volume.inspect({ abortSignal: signal })) as Docker.VolumeInspectInfo;
    });
    return toVolumeInfo(info);
  }

  async inspectVolume(name: string): Promise<VolumeInfo> {
    const info = await this.call('volume-inspect', (signal) => this.volume(name).inspect({ abortSignal: signal }), {
      map: (err) => (statusOf(err) === 404 ? new VolumeNotFoundError(name, { cause: err }) : undefined),
    });
    return toVolumeInfo(info as Docker.VolumeInspectInfo);
  }

  async removeVolume(name: string): Promise<void> {
    // A volume in use (409) stays a DockerApiError: it is freed only by removing what uses it.
    await this.call('volume-remove', (signal) => this.volume(name).remove({ abortSignal: signal }), {
      map: (err) => (statusOf(err) === 404 ? 'ok' : undefined),
    });
  }

  async listVolumes(labels: Readonly<Record<string, string>>): Promise<VolumeInfo[]> {
    const answer = await this.call('volume-list', (signal) =>
      this.docker.listVolumes({ filters: { label: labelFilter(labels) }, abortSignal: signal }),
    );
    const wanted = Object.entries(labels);
    return (answer.Volumes ?? [])
      .filter((v) => wanted.every(([key, value]) => v.Labels?.[key] === value))
      .map((v) => toVolumeInfo(v as Docker.VolumeInspectInfo));
  }

  private container(idOrName: string): Docker.Container {
    // dockerode puts the reference into the URL path unescaped.
    return this.docker.getContainer(encodeURIComponent(idOrName));
  }

  private image(ref: string): Docker.Image {
    return this.docker.getImage(encodeURIComponent(ref));
  }

  private volume(name: string): Docker.Volume {
    return this.docker.getVolume(encodeURIComponent(name));
  }

  private containerErrors(ref: string): ErrorMap {
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
  private async call<T>(operation: DockerOperation, run: (signal: AbortSignal) => Promise<T>, options: CallOptions = {}): Promise<T> {
    const cancelSignal = options.cancel?.signal;
    if (cancelSignal?.aborted) throw options.cancel!.error();
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const controller = options.abortOnTimeout ?? new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let onCancel: (() => void) | undefined;
    const stopped = new Promise<never>((_, reject) => {
      // Infinite: no deadline (a pull whose timeouts the caller enforces).
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          reject(new DockerTimeoutError(operation, timeoutMs));
          controller.abort();
        }, timeoutMs);
      }
      if (cancelSignal) {
        onCancel = () => {
          reject(options.cancel!.error());
          controller.abort();
        };
        cancelSignal.addEventListener('abort', onCancel, { once: true });
      }
    });
    try {
      return await Promise.race([run(controller.signal), stopped]);
    } catch (err) {
      if (err instanceof BerthError) throw err;
      const mapped = isUnreachable(err) || endpointRefusalOf(err) !== undefined ? undefined : options.map?.(err);
      if (mapped === 'ok') return undefined as T;
      throw mapped ?? this.toBerthError(operation, err);
    } finally {
      clearTimeout(timer);
      if (onCancel) cancelSignal?.removeEventListener('abort', onCancel);
    }
  }

  private toBerthError(operation: string, err: unknown): BerthError {
    if (err instanceof BerthError) return err;
    const refusal = endpointRefusalOf(err);
    if (refusal !== undefined) return new DockerEndpointRefusedError(this.endpoint, refusal, { cause: err });
    if (isUnreachable(err)) {
      return new DockerUnavailableError(`cannot reach Docker at ${this.endpoint} (${operation}): ${errorMessage(err)}`, {
        cause: err,
      });
    }
    return new DockerApiError(operation, statusOf(err), detailOf(err), { cause: err });
  }
}

function labelFilter(labels: Readonly<Record<string, string>>): string[] {
  return Object.entries(labels).map(([key, value]) => `${key}=${value}`);
}

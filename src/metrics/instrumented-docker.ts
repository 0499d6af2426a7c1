import type { DockerClient, LogChunk, LogOptions } from '../docker/docker-client.js';
import type { AgentMetrics, DockerCall } from './metrics.js';

/** Milliseconds from any origin; only differences are used. */
export interface MonotonicClock {
  now(): number;
}

// performance.now() rather than Date.now(): a wall-clock step (NTP) must not produce negative durations.
const monotonic: MonotonicClock = { now: () => performance.now() };

/** The project's error code (BerthError's `code`), else `Unknown` so the label stays meaningful. */
export function errorCode(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code !== '' ? code : 'Unknown';
}

/**
 * A DockerClient that records every call's duration (`observeDockerCall`) and every failure by
 * call and error code (`dockerError`), then answers or throws exactly as `inner` did — the same
 * error object, so callers' `instanceof` checks keep working.
 *
 * ContainerNotFound from inspect/stop/remove is counted like any failure even though the engine
 * treats it as an answer: dropping it here would hide, say, containers vanishing under the agent.
 *
 * Spelled out method by method rather than proxied, so a method added to DockerClient fails to
 * compile here until it is instrumented.
 */
export function instrumentDocker(
  inner: DockerClient,
  metrics: AgentMetrics,
  clock: MonotonicClock = monotonic,
): DockerClient {
  async function timed<T>(call: DockerCall, run: () => Promise<T>): Promise<T> {
    const started = clock.now();
    try {
      return await run();
    } catch (err) {
      metrics.dockerError(call, errorCode(err));
      throw err;
    } finally {
      metrics.observeDockerCall(call, Math.max(0, clock.now() - started) / 1000);
    }
  }

  return {
    ping: () => timed('ping', () => inner.ping()),
    version: () => timed('version', () => inner.version()),
    pullImage: (image, options) => timed('pull', () => inner.pullImage(image, options)),
    inspectImage: (ref) => timed('image-inspect', () => inner.inspectImage(ref)),
    listImages: () => timed('image-list', () => inner.listImages()),
    removeImage: (ref) => timed('image-remove', () => inner.removeImage(ref)),
    createContainer: (spec) => timed('create', () => inner.createContainer(spec)),
    startContainer: (id) => timed('start', () => inner.startContainer(id)),
    stopContainer: (id, timeoutSeconds) => timed('stop', () => inner.stopContainer(id, timeoutSeconds)),
    removeContainer: (id) => timed('remove', () => inner.removeContainer(id)),
    inspectContainer: (idOrName) => timed('inspect', () => inner.inspectContainer(idOrName)),
    listContainers: (labels) => timed('list', () => inner.listContainers(labels)),
    containerEvents: (options) => countedEvents('events', () => inner.containerEvents(options), metrics),
    networkEvents: (options) => countedEvents('network-events', () => inner.networkEvents(options), metrics),
    createVolume: (spec) => timed('volume-create', () => inner.createVolume(spec)),
    inspectVolume: (name) => timed('volume-inspect', () => inner.inspectVolume(name)),
    removeVolume: (name) => timed('volume-remove', () => inner.removeVolume(name)),
    listVolumes: (labels) => timed('volume-list', () => inner.listVolumes(labels)),
    containerLogs: (idOrName, options) => countedLogs(inner, idOrName, options, metrics),
    containerStats: (id, signal) => timed('stats', () => inner.containerStats(id, signal)),
  };
}

/**
 * A stream lives as long as the agent, so its duration says nothing; only its failures are counted.
 * The inner stream is opened here, eagerly, because implementations may treat the call itself
 * (not the first `next()`) as the moment the stream opens.
 */
function countedEvents<E>(operation: 'events' | 'network-events', open: () => AsyncIterable<E>, metrics: AgentMetrics): AsyncIterable<E> {
  let stream: AsyncIterable<E>;
  try {
    stream = open();
  } catch (err) {
    metrics.dockerError(operation, errorCode(err));
    throw err;
  }
  return {
    [Symbol.asyncIterator]: () => forward(operation, stream, metrics),
  };
}

// yield* passes return() through, so a consumer that breaks out of its loop closes the inner stream.
async function* forward<E>(operation: 'events' | 'network-events', stream: AsyncIterable<E>, metrics: AgentMetrics): AsyncGenerator<E> {
  try {
    yield* stream;
  } catch (err) {
    metrics.dockerError(operation, errorCode(err));
    throw err;
  }
}

/** Like the event stream, a log stream's duration is the client's choice: only its failures are counted. */
async function* countedLogs(inner: DockerClient, idOrName: string, options: LogOptions, metrics: AgentMetrics): AsyncGenerator<LogChunk> {
  try {
    yield* inner.containerLogs(idOrName, options);
  } catch (err) {
    metrics.dockerError('logs', errorCode(err));
    throw err;
  }
}

import { createHash } from 'node:crypto';
import type { PortBinding } from '../api/task.js';
import {
  ContainerNotFoundError,
  DockerApiError,
  DockerUnavailableError,
  ImageNotFoundError,
  ImagePullError,
  NameConflictError,
} from '../errors.js';
import type {
  ContainerInfo,
  ContainerSpec,
  ContainerSummary,
  DockerClient,
  DockerContainerState,
  DockerEvent,
  DockerOperation,
  DockerVersion,
  EventStreamOptions,
  PullOptions,
} from './docker-client.js';
import { VALID_NAME, hasLabels, immediateExitCode, normalizeImage } from './fake-docker-helpers.js';

export type FakeOperation = DockerOperation;

export interface FakeDockerOptions {
  /** Images the fake registry holds; pulling anything else fails with ImagePullError. */
  readonly images?: readonly string[];
}

interface FakeContainer {
  readonly id: string;
  readonly name: string;
  readonly spec: ContainerSpec;
  state: DockerContainerState;
  exitCode?: number;
  oomKilled: boolean;
  portBindings: PortBinding[];
  readonly createdAt: number;
  startedAt?: number;
  finishedAt?: number;
}

const FIRST_DYNAMIC_PORT = 32768;

/**
 * An in-memory Docker for unit tests: deterministic, no timers, every call settles in microtasks.
 * It passes the same contract suite as the real adapter (test/contract/docker-client.contract.ts).
 *
 * How it models containers:
 * - IDs are 64 hex digits derived from a counter; names are unique; lookups by ID, name or unique ID prefix.
 * - A container runs until stopped, crashed or removed, except `sh -c "exit N"` (as entry point plus
 *   command, `sh` or `/bin/sh`), which exits with N as soon as it starts, like the real program.
 * - `stopContainer` is a graceful stop: events kill (signal 15), die (exit code 0), stop.
 * - Host ports without a `hostPort` are assigned from 32768 upward on start, and released on exit.
 * - Removing a running container fails with a 409 DockerApiError, as Docker does without `force`.
 * - Time is the wall clock (`Date.now()`, so fake timers move it), strictly rising: an event in
 *   the same millisecond as the last comes 1 µs after it. Container timestamps use the same clock.
 *
 * Test controls: `crash`, `removeExternally`, `redeliver`, `failNext`, `delayNext`, `setUnavailable`,
 * `breakEventStreams`, the `calls` log, `events`, `containerCount`, `hasImage`.
 */
export class FakeDocker implements DockerClient {
  /** Every call, in order, with its main argument (image, name, ID, or labels as JSON). */
  readonly calls: Array<{ op: FakeOperation; arg: string }> = [];
  private readonly registry: Set<string>;
  private readonly localImages = new Set<string>();
  private readonly containers = new Map<string, FakeContainer>();
  private readonly log: DockerEvent[] = [];
  private readonly failures = new Map<FakeOperation, Error[]>();
  private readonly delays = new Map<FakeOperation, Array<Promise<unknown>>>();
  private readonly wakers = new Set<() => void>();
  private unavailable = false;
  /** Bumped to break every open event stream. */
  private streamEpoch = 0;
  private nowNano = 0n;
  private created = 0;

  constructor(options: FakeDockerOptions = {}) {
    this.registry = new Set((options.images ?? []).map(normalizeImage));
  }

  // --- test controls ---

  /** The container's process dies on its own (exit code, optionally OOM-killed): events [oom,] die. */
  crash(id: string, exitCode: number, options: { oomKilled?: boolean } = {}): void {
    const c = this.mustFind(id);
    if (c.state !== 'running') throw new Error(`fake docker: cannot crash ${c.name}, it is ${c.state}`);
    if (options.oomKilled) this.emit(c, 'oom');
    this.exit(c, exitCode, options.oomKilled ?? false);
  }

  /**
   * Like `docker rm -f` run by someone else: a running container is killed (137), then it is
   * removed. `silently` leaves no events, as when a stream was down and the daemon's buffer lost them.
   */
  removeExternally(id: string, options: { silently?: boolean } = {}): void {
    const c = this.mustFind(id);
    const logLength = this.log.length;
    if (c.state === 'running') {
      this.emit(c, 'kill', { signal: '9' });
      this.exit(c, 137, false);
    }
    this.containers.delete(c.id);
    this.emit(c, 'destroy');
    if (options.silently) this.log.length = logLength;
  }

  /**
   * Sends these events again, in the order given, to every open stream: a daemon's duplicated or
   * out-of-order delivery. Nothing about the containers changes.
   */
  redeliver(events: readonly DockerEvent[]): void {
    this.log.push(...events.map((e) => ({ ...e, labels: { ...e.labels } })));
    this.wakeAll();
  }

  /** The next call of `op` throws `error` (after being logged in `calls`). Queued per operation. */
  failNext(op: FakeOperation, error: Error): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), error]);
  }

  /** The next call of `op` waits for `gate` before doing anything, to hold an operation in flight. */
  delayNext(op: FakeOperation, gate: Promise<unknown>): void {
    this.delays.set(op, [...(this.delays.get(op) ?? []), gate]);
  }

  /** While down, every call throws DockerUnavailableError; going down also breaks open event streams. */
  setUnavailable(down: boolean): void {
    this.unavailable = down;
    if (down) this.breakEventStreams();
  }

  /** Every open event iterator throws DockerUnavailableError, as when the daemon restarts. */
  breakEventStreams(): void {
    this.streamEpoch++;
    this.wakeAll();
  }

  containerCount(): number {
    return this.containers.size;
  }

  hasImage(image: string): boolean {
    return this.localImages.has(normalizeImage(image));
  }

  /** Every event so far, oldest first. */
  get events(): readonly DockerEvent[] {
    return [...this.log];
  }

  // --- DockerClient ---

  async ping(): Promise<void> {
    await this.enter('ping', '');
  }

  async version(): Promise<DockerVersion> {
    await this.enter('version', '');
    return { version: '20.10.0-fake', apiVersion: '1.41' };
  }

  async pullImage(image: string, options: PullOptions = {}): Promise<void> {
    await this.enter('pull', image);
    const ref = normalizeImage(image);
    if (!this.registry.has(ref)) throw new ImagePullError(image, `manifest for ${ref} not found: manifest unknown`);
    options.onProgress?.({ status: `Pulling from ${ref.slice(0, ref.lastIndexOf(':'))}` });
    options.onProgress?.({ id: 'fa4e1a7e', status: 'Pull complete' });
    options.onProgress?.({ status: `Status: Downloaded newer image for ${ref}` });
    this.localImages.add(ref);
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    await this.enter('create', spec.name);
    if (!VALID_NAME.test(spec.name)) {
      throw new DockerApiError('create', 400, `Invalid container name (${spec.name})`);
    }
    const name = spec.name.replace(/^\//, '');
    if ([...this.containers.values()].some((c) => c.name === name)) throw new NameConflictError(name);
    if (!this.localImages.has(normalizeImage(spec.image))) throw new ImageNotFoundError(spec.image);
    const id = createHash('sha256').update(`fake-container-${++this.created}`).digest('hex');
    const c: FakeContainer = { id, name, spec, state: 'created', oomKilled: false, portBindings: [], createdAt: this.tickMs() };
    this.containers.set(id, c);
    this.emit(c, 'create');
    return id;
  }

  async startContainer(id: string): Promise<void> {
    await this.enter('start', id);
    const c = this.mustFind(id);
    if (c.state === 'running') return;
    c.portBindings = this.bindPorts(c);
    c.state = 'running';
    c.exitCode = undefined;
    c.oomKilled = false;
    c.startedAt = this.tickMs();
    this.emit(c, 'start');
    const exitCode = immediateExitCode(c.spec);
    if (exitCode !== undefined) this.exit(c, exitCode, false);
  }

  async stopContainer(id: string, _timeoutSeconds: number): Promise<void> {
    await this.enter('stop', id);
    const c = this.mustFind(id);
    if (c.state !== 'running') return;
    this.emit(c, 'kill', { signal: '15' });
    this.exit(c, 0, false);
    this.emit(c, 'stop');
  }

  async removeContainer(id: string): Promise<void> {
    await this.enter('remove', id);
    const c = this.mustFind(id);
    if (c.state === 'running') {
      throw new DockerApiError('remove', 409, `You cannot remove a running container ${c.id}. Stop the container first`);
    }
    this.containers.delete(c.id);
    this.emit(c, 'destroy');
  }

  async inspectContainer(idOrName: string): Promise<ContainerInfo> {
    await this.enter('inspect', idOrName);
    const c = this.mustFind(idOrName);
    const stopped = c.state === 'exited' || c.state === 'dead';
    return {
      id: c.id,
      name: c.name,
      image: c.spec.image,
      state: c.state,
      ...(stopped && c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      oomKilled: c.oomKilled,
      labels: { ...c.spec.labels },
      portBindings: c.portBindings.map((b) => ({ ...b })),
      createdAt: c.createdAt,
      ...(c.startedAt !== undefined ? { startedAt: c.startedAt } : {}),
      ...(c.finishedAt !== undefined ? { finishedAt: c.finishedAt } : {}),
    };
  }

  async listContainers(labels: Readonly<Record<string, string>>): Promise<ContainerSummary[]> {
    await this.enter('list', JSON.stringify(labels));
    return [...this.containers.values()]
      .filter((c) => hasLabels(c.spec.labels, labels))
      .map((c) => ({ id: c.id, name: c.name, state: c.state, labels: { ...c.spec.labels } }));
  }

  /**
   * The stream counts as open from this call, not from the first `next()`, so a test can open a
   * stream and act at once without racing it; when `delayNext('events')` holds it, from the end of
   * the hold, like a slow connection: what happened meanwhile arrives only through `sinceNano`.
   */
  containerEvents(options: EventStreamOptions): AsyncIterable<DockerEvent> {
    const since = options.sinceNano === undefined ? undefined : BigInt(options.sinceNano);
    const startCursor = (): number => {
      const replayFrom = since === undefined ? -1 : this.log.findIndex((e) => BigInt(e.timeNano) > since);
      return replayFrom < 0 ? this.log.length : replayFrom;
    };
    const cursor = this.delays.get('events')?.length ? startCursor : startCursor();
    const opening = options.signal.aborted ? undefined : this.enter('events', JSON.stringify(options.labels));
    // Surfaces on the first next(), like a connection error from the real client.
    opening?.catch(() => {});
    return this.streamEvents(options, opening, cursor, this.streamEpoch);
  }

  private async *streamEvents(
    options: EventStreamOptions,
    opening: Promise<void> | undefined,
    start: number | (() => number),
    epoch: number,
  ): AsyncGenerator<DockerEvent> {
    const { signal } = options;
    if (opening === undefined) return;
    await opening;
    options.onOpen?.();
    let cursor = typeof start === 'number' ? start : start();
    while (!signal.aborted) {
      if (epoch !== this.streamEpoch) throw new DockerUnavailableError('fake docker: the event stream broke');
      const event = this.log[cursor];
      if (event === undefined) {
        await this.nextWake(signal);
        continue;
      }
      cursor++;
      if (hasLabels(event.labels, options.labels)) yield event;
    }
  }

  // --- internals ---

  private async enter(op: FakeOperation, arg: string): Promise<void> {
    this.calls.push({ op, arg });
    const gate = this.delays.get(op)?.shift();
    if (gate) await gate;
    if (this.unavailable) throw new DockerUnavailableError(`fake docker is down (${op})`);
    const failure = this.failures.get(op)?.shift();
    if (failure) throw failure;
  }

  /** Docker's lookup order: full ID, then name, then unique ID prefix. */
  private mustFind(ref: string): FakeContainer {
    const byId = this.containers.get(ref);
    if (byId) return byId;
    const name = ref.replace(/^\//, '');
    const all = [...this.containers.values()];
    const byName = all.find((c) => c.name === name);
    if (byName) return byName;
    const byPrefix = /^[0-9a-f]+$/.test(ref) ? all.filter((c) => c.id.startsWith(ref)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    throw new ContainerNotFoundError(ref);
  }

  private bindPorts(c: FakeContainer): PortBinding[] {
    const taken = new Set(
      [...this.containers.values()].flatMap((o) => o.portBindings.map((b) => `${b.protocol}/${b.hostPort}`)),
    );
    return c.spec.portMappings.map((m) => {
      let hostPort = m.hostPort;
      if (hostPort === undefined) {
        hostPort = FIRST_DYNAMIC_PORT;
        while (taken.has(`${m.protocol}/${hostPort}`)) hostPort++;
      } else if (taken.has(`${m.protocol}/${hostPort}`)) {
        throw new DockerApiError('start', 500, `Bind for ${m.hostIp}:${hostPort} failed: port is already allocated`);
      }
      taken.add(`${m.protocol}/${hostPort}`);
      return { containerPort: m.containerPort, hostPort, protocol: m.protocol, hostIp: m.hostIp };
    });
  }

  private exit(c: FakeContainer, exitCode: number, oomKilled: boolean): void {
    c.state = 'exited';
    c.exitCode = exitCode;
    c.oomKilled = oomKilled;
    c.portBindings = [];
    c.finishedAt = this.tickMs();
    this.emit(c, 'die', { exitCode: String(exitCode) });
  }

  private emit(c: FakeContainer, action: string, attributes: Record<string, string> = {}): void {
    const exitCode = attributes.exitCode === undefined ? undefined : Number(attributes.exitCode);
    this.log.push({
      dockerId: c.id,
      action,
      ...(exitCode === undefined ? {} : { exitCode }),
      labels: { ...c.spec.labels },
      timeNano: String(this.tick()),
    });
    this.wakeAll();
  }

  /** Wall-clock time like Docker's, but strictly rising so every event has its own `timeNano`. */
  private tick(): bigint {
    const wall = BigInt(Date.now()) * 1_000_000n;
    this.nowNano = wall > this.nowNano ? wall : this.nowNano + 1_000n;
    return this.nowNano;
  }

  private tickMs(): number {
    return Number(this.tick() / 1_000_000n);
  }

  private nextWake(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.wakers.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.wakers.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }
}

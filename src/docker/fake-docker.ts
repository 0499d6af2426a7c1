import { createHash } from 'node:crypto';
import {
  ContainerNotRunningError,
  DockerApiError,
  DockerUnavailableError,
  ImageNotFoundError,
  ImagePullError,
  NameConflictError,
  PullCancelledError,
} from '../errors.js';
import type {
  ContainerInfo,
  ContainerSpec,
  ContainerStats,
  ContainerSummary,
  DockerClient,
  DockerEvent,
  DockerHealth,
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
import { FakeContainerTable, networksNow, type FakeContainer } from './fake-containers.js';
import { FakeEventLog } from './fake-event-log.js';
import {
  VALID_NAME,
  checkSettingsAtCreate,
  hasHealthCheck,
  hasLabels,
  immediateExitCode,
  normalizeImage,
  raceAbort,
} from './fake-docker-helpers.js';
import { checkReferencesAtCreate, checkReferencesAtStart } from './fake-references.js';
import { FakePorts } from './fake-ports.js';
import { FakeImages } from './fake-images.js';
import { FakeLogs } from './fake-logs.js';
import { FakeStats } from './fake-stats.js';
import { FakeVolumes } from './fake-volumes.js';
import { registryRefusal } from './fake-registry-auth.js';
import { registryHost } from './registry-auth/registry-host.js';
import { pullRefusalDetail } from './registry-auth/wire.js';

export type FakeOperation = DockerOperation;

export interface FakeDockerOptions {
  /**
   * Images the fake registry holds (1 MiB each unless a size is given); pulling anything else
   * fails with ImagePullError.
   */
  readonly images?: readonly (string | { readonly ref: string; readonly sizeBytes: number })[];
  /**
   * Registries (by host, `registry.test:5000`) that answer 401 to a pull without this user and
   * password, worded as Docker words it.
   */
  readonly registryUsers?: Readonly<Record<string, { readonly username: string; readonly password: string }>>;
}

/**
 * An in-memory Docker for unit tests: deterministic, no timers, every call settles in microtasks.
 * It passes the same contract suite as the real adapter (test/contract/docker-client.contract.ts).
 *
 * How it models containers:
 * - IDs are 64 hex digits derived from a counter; names are unique; lookups by ID, name or unique ID prefix.
 * - A container runs until stopped, crashed or removed, except `sh -c "exit N"` (as entry point plus
 *   command, `sh` or `/bin/sh`), which exits with N as soon as it starts, like the real program.
 * - `stopContainer` is a graceful stop: events kill (signal 15), die (exit code 0), stop.
 * - Host ports without a `hostPort` are assigned from 32768 upward on start, and released on exit;
 *   a static host port that another running container holds fails the start with PortConflictError.
 * - References to other containers (`volumesFrom`, `links`, `container:` modes) are checked at
 *   create and at start exactly where Docker checks them (fake-references.ts).
 * - A container with a healthcheck is `starting` from each start until `setHealth` decides, and
 *   `unhealthy` once it stops, as in Docker; nothing probes on its own.
 * - A `volume` mount creates its missing volume at create, as Docker does.
 * - Removing a running container fails with a 409 DockerApiError, as Docker does without `force`.
 * - Time is the wall clock (`Date.now()`, so fake timers move it), strictly rising: an event in
 *   the same millisecond as the last comes 1 µs after it. Container timestamps use the same clock.
 *
 * - Output is only what `writeLogs` writes; a follower of it ends when the container stops.
 *
 * - `connectNetwork` / `disconnectNetwork` are `docker network connect` / `disconnect` run from
 *   outside: they change what inspect shows and emit network events, as Docker does.
 *
 * Test controls: `crash`, `setHealth`, `writeLogs`, `connectNetwork`, `disconnectNetwork`, `removeExternally`, `redeliver`, `failNext`, `delayNext`
 * (a held pull ends at once when its signal aborts), `setUnavailable`, `breakEventStreams`, the
 * `calls` log, `work`, `events`, `specOf`, `containerCount`, `hasImage`, `hasVolume`, `setStats`.
 */
export class FakeDocker implements DockerClient {
  /** Every call, in order, with its main argument (image, name, ID, or labels as JSON). */
  readonly calls: Array<{ op: FakeOperation; arg: string }> = [];
  private readonly images = new FakeImages(() => this.log.tickMs());
  private readonly registryUsers: NonNullable<FakeDockerOptions['registryUsers']>;
  private readonly containers = new FakeContainerTable();
  private readonly ports = new FakePorts();
  private readonly volumes = new FakeVolumes((name) => this.containers.usingVolume(name));
  private readonly log = new FakeEventLog();
  private readonly networkLog = new FakeEventLog<NetworkEvent>();
  private readonly output = new FakeLogs();
  private readonly usage = new FakeStats();
  private readonly failures = new Map<FakeOperation, Error[]>();
  private readonly delays = new Map<FakeOperation, Array<Promise<unknown>>>();
  private unavailable = false;
  private created = 0;
  private processes = 0;

  constructor(options: FakeDockerOptions = {}) {
    for (const image of options.images ?? []) {
      if (typeof image === 'string') this.images.publish(image);
      else this.images.publish(image.ref, image.sizeBytes);
    }
    this.registryUsers = options.registryUsers ?? {};
  }

  // --- test controls ---

  /** The container's process dies on its own (exit code, optionally OOM-killed): events [oom,] die. */
  crash(id: string, exitCode: number, options: { oomKilled?: boolean } = {}): void {
    const c = this.containers.mustFind(id);
    if (c.state !== 'running') throw new Error(`fake docker: cannot crash ${c.name}, it is ${c.state}`);
    if (options.oomKilled) this.emit(c, 'oom');
    this.exit(c, exitCode, options.oomKilled ?? false);
  }

  /**
   * A probe's verdict on a running container with a healthcheck: inspect reports `status`, and a
   * change to `healthy` or `unhealthy` emits `health_status` (Docker sends no event for `starting`).
   */
  setHealth(idOrName: string, status: DockerHealth): void {
    const c = this.containers.mustFind(idOrName);
    if (c.state !== 'running' || !hasHealthCheck(c.spec)) {
      throw new Error(`fake docker: cannot set the health of ${c.name}: it is ${c.state}${hasHealthCheck(c.spec) ? '' : ', without a healthcheck'}`);
    }
    const changed = c.health !== status;
    c.health = status;
    if (changed && status !== 'starting') this.emit(c, 'health_status', { health: status });
  }

  /**
   * Like `docker rm -f` run by someone else: a running container is killed (137), then it is
   * removed. `silently` leaves no events, as when a stream was down and the daemon's buffer lost them.
   */
  removeExternally(id: string, options: { silently?: boolean } = {}): void {
    const c = this.containers.mustFind(id);
    const logLength = this.log.length;
    if (c.state === 'running') {
      this.emit(c, 'kill');
      this.exit(c, 137, false);
    }
    this.containers.delete(c.id);
    this.output.forget(c.id);
    this.emit(c, 'destroy');
    if (options.silently) this.log.truncate(logLength);
  }

  /**
   * `docker network connect NETWORK CONTAINER` run by someone else: inspect shows the network (with
   * `ipAddress` while the container runs) and a network `connect` event names the container.
   */
  connectNetwork(idOrName: string, network: string, ipAddress?: string): void {
    const c = this.containers.mustFind(idOrName);
    c.networkChanges.set(network, ipAddress === undefined ? {} : { ipAddress });
    this.networkLog.push({ dockerId: c.id, action: 'connect', network, timeNano: String(this.log.tick()) });
  }

  /** `docker network disconnect NETWORK CONTAINER`: the network leaves inspect, a `disconnect` event names the container. */
  disconnectNetwork(idOrName: string, network: string): void {
    const c = this.containers.mustFind(idOrName);
    if (!(network in (networksNow(c).networks ?? {}))) {
      throw new Error(`fake docker: container ${c.name} is not connected to network ${network}`);
    }
    c.networkChanges.set(network, null);
    this.networkLog.push({ dockerId: c.id, action: 'disconnect', network, timeNano: String(this.log.tick()) });
  }

  /**
   * Sends these events again, in the order given, to every open stream: a daemon's duplicated or
   * out-of-order delivery. Nothing about the containers changes.
   */
  redeliver(events: readonly DockerEvent[]): void {
    this.log.push(...events.map((e) => ({ ...e, labels: { ...e.labels } })));
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
    this.log.breakStreams();
    this.networkLog.breakStreams();
  }

  /** The running container's process writes `text` to one of its streams (a missing last newline stays missing). */
  writeLogs(idOrName: string, stream: LogChunk['stream'], text: string): void {
    const c = this.containers.mustFind(idOrName);
    if (c.state !== 'running') throw new Error(`fake docker: ${c.name} cannot write output, it is ${c.state}`);
    // A TTY has one stream: Docker cannot tell stderr apart.
    this.output.write(c.id, c.spec.tty ? 'stdout' : stream, text, this.log.tickMs());
  }

  /** Pins figures of a container's stats (see FakeStats for what it reports otherwise). */
  setStats(idOrName: string, stats: Partial<ContainerStats>): void {
    this.usage.set(this.containers.mustFind(idOrName).id, stats);
  }

  /**
   * The fake's own work so far: containers, ports and events its lookups, filters and streams
   * looked at. Each call should cost the same however many containers the fake holds; the growth
   * test (test/unit/scale) checks that this grows with the calls, not faster.
   */
  get work(): number {
    return this.containers.work + this.ports.work + this.log.work + this.networkLog.work;
  }

  containerCount(): number {
    return this.containers.size;
  }

  /** The spec a container was created from, exactly as given. */
  specOf(idOrName: string): ContainerSpec {
    return this.containers.mustFind(idOrName).spec;
  }

  hasVolume(name: string): boolean {
    return this.volumes.has(name);
  }

  /** Whether a local image has this reference (tag, digest reference or ID). */
  hasImage(image: string): boolean {
    return this.images.resolve(image) !== undefined;
  }

  /** The registry now serves a new version of `ref`, with a new ID and digest (a push); returns them. */
  publishImage(ref: string, sizeBytes?: number): { id: string; digest: string } {
    const { id, digest } = this.images.publish(ref, sizeBytes);
    return { id, digest };
  }

  /** Every event so far, oldest first. */
  get events(): readonly DockerEvent[] {
    return this.log.all;
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
    await this.enter('pull', image, options.signal && { signal: options.signal, error: () => new PullCancelledError(image) });
    const ref = normalizeImage(image);
    const refusal = registryRefusal(this.registryUsers[registryHost(image)], options.auth);
    if (refusal) throw new ImagePullError(image, pullRefusalDetail(image, refusal, options.auth !== undefined));
    this.images.pull(image);
    options.onProgress?.({ status: `Pulling from ${ref.slice(0, ref.lastIndexOf(':'))}` });
    options.onProgress?.({ id: 'fa4e1a7e', status: 'Pull complete' });
    options.onProgress?.({ status: `Status: Downloaded newer image for ${ref}` });
  }

  async inspectImage(ref: string): Promise<ImageInfo> {
    await this.enter('image-inspect', ref);
    return this.images.inspect(ref);
  }

  async listImages(): Promise<ImageInfo[]> {
    await this.enter('image-list', '');
    return this.images.list();
  }

  async removeImage(ref: string): Promise<void> {
    await this.enter('image-remove', ref);
    this.images.remove(ref, (imageId) => this.containers.usesImage(imageId));
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    await this.enter('create', spec.name);
    if (!VALID_NAME.test(spec.name)) {
      throw new DockerApiError('create', 400, `Invalid container name (${spec.name})`);
    }
    const name = spec.name.replace(/^\//, '');
    if (this.containers.named(name)) throw new NameConflictError(name);
    const imageId = this.images.resolve(spec.image);
    if (imageId === undefined) throw new ImageNotFoundError(spec.image);
    checkSettingsAtCreate(spec);
    checkReferencesAtCreate(spec, (ref) => this.containers.find(ref));
    for (const mount of spec.mounts ?? []) {
      if (mount.type === 'volume') this.volumes.create({ name: mount.source });
    }
    const id = createHash('sha256').update(`fake-container-${++this.created}`).digest('hex');
    const c: FakeContainer = { id, name, spec, imageId, state: 'created', oomKilled: false, portBindings: [], networkChanges: new Map(), createdAt: this.log.tickMs() };
    this.containers.set(id, c);
    this.emit(c, 'create');
    return id;
  }

  async startContainer(id: string): Promise<void> {
    await this.enter('start', id);
    const c = this.containers.mustFind(id);
    if (c.state === 'running') return;
    checkReferencesAtStart(c.name, c.spec, (ref) => {
      const other = this.containers.find(ref);
      return other && { ...other, ...(other.spec.ipcMode !== undefined ? { ipcMode: other.spec.ipcMode } : {}) };
    });
    c.portBindings = this.ports.bind(c);
    c.state = 'running';
    c.exitCode = undefined;
    c.oomKilled = false;
    c.health = hasHealthCheck(c.spec) ? 'starting' : undefined;
    c.pid = 4000 + ++this.processes;
    c.ipAddress = `172.17.0.${(this.processes % 250) + 2}`;
    c.startedAt = this.log.tickMs();
    this.usage.started(c.id);
    this.emit(c, 'start');
    const exitCode = immediateExitCode(c.spec);
    if (exitCode !== undefined) this.exit(c, exitCode, false);
  }

  async stopContainer(id: string, _timeoutSeconds: number): Promise<void> {
    await this.enter('stop', id);
    const c = this.containers.mustFind(id);
    if (c.state !== 'running') return;
    this.emit(c, 'kill');
    this.exit(c, 0, false);
    this.emit(c, 'stop');
  }

  async removeContainer(id: string): Promise<void> {
    await this.enter('remove', id);
    const c = this.containers.mustFind(id);
    if (c.state === 'running') {
      throw new DockerApiError('remove', 409, `You cannot remove a running container ${c.id}. Stop the container first`);
    }
    this.containers.delete(c.id);
    this.output.forget(c.id);
    this.usage.forget(c.id);
    this.emit(c, 'destroy');
  }

  async inspectContainer(idOrName: string): Promise<ContainerInfo> {
    await this.enter('inspect', idOrName);
    const c = this.containers.mustFind(idOrName);
    const stopped = c.state === 'exited' || c.state === 'dead';
    return {
      id: c.id,
      name: c.name,
      image: c.spec.image,
      imageId: c.imageId,
      state: c.state,
      ...(stopped && c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      oomKilled: c.oomKilled,
      labels: { ...c.spec.labels },
      portBindings: c.portBindings.map((b) => ({ ...b })),
      ...(c.health !== undefined ? { health: c.health } : {}),
      ...(c.state === 'running' && c.pid !== undefined ? { pid: c.pid } : {}),
      ...networksNow(c),
      hostname: c.spec.hostname ?? c.id.slice(0, 12),
      createdAt: c.createdAt,
      ...(c.startedAt !== undefined ? { startedAt: c.startedAt } : {}),
      ...(c.finishedAt !== undefined ? { finishedAt: c.finishedAt } : {}),
    };
  }

  async listContainers(labels: Readonly<Record<string, string>>): Promise<ContainerSummary[]> {
    await this.enter('list', JSON.stringify(labels));
    return this.containers
      .withLabels(labels)
      .map((c) => ({ id: c.id, name: c.name, state: c.state, labels: { ...c.spec.labels } }));
  }

  async containerStats(id: string, signal?: AbortSignal): Promise<ContainerStats> {
    await this.enter('stats', id, signal && { signal, error: () => new DockerApiError('stats', undefined, 'cancelled by the caller') });
    const c = this.containers.mustFind(id);
    if (c.state !== 'running') throw new ContainerNotRunningError(id);
    return this.usage.read(c.id, c.spec.memoryBytes, Date.now());
  }

  async createVolume(spec: VolumeSpec): Promise<VolumeInfo> {
    await this.enter('volume-create', spec.name);
    return this.volumes.create(spec);
  }

  async inspectVolume(name: string): Promise<VolumeInfo> {
    await this.enter('volume-inspect', name);
    return this.volumes.inspect(name);
  }

  async removeVolume(name: string): Promise<void> {
    await this.enter('volume-remove', name);
    this.volumes.remove(name);
  }

  async listVolumes(labels: Readonly<Record<string, string>>): Promise<VolumeInfo[]> {
    await this.enter('volume-list', JSON.stringify(labels));
    return this.volumes.list(labels);
  }

  /**
   * The stream counts as open from this call, not from the first `next()`, so a test can open a
   * stream and act at once without racing it; when `delayNext('events')` holds it, from the end of
   * the hold, like a slow connection: what happened meanwhile arrives only through `sinceNano`.
   */
  containerEvents(options: EventStreamOptions): AsyncIterable<DockerEvent> {
    const startCursor = (): number => this.log.cursorFor(options.sinceNano);
    const cursor = this.delays.get('events')?.length ? startCursor : startCursor();
    if (options.signal.aborted) return (async function* () {})();
    const opening = this.enter('events', JSON.stringify(options.labels));
    // Surfaces on the first next(), like a connection error from the real client.
    opening.catch(() => {});
    return this.log.stream(options, (e) => hasLabels(e.labels, options.labels), opening, cursor);
  }

  networkEvents(options: NetworkEventStreamOptions): AsyncIterable<NetworkEvent> {
    const startCursor = (): number => this.networkLog.cursorFor(options.sinceNano);
    const cursor = this.delays.get('network-events')?.length ? startCursor : startCursor();
    if (options.signal.aborted) return (async function* () {})();
    const opening = this.enter('network-events', '');
    opening.catch(() => {});
    return this.networkLog.stream(options, () => true, opening, cursor);
  }

  /** `none` is the one log driver Docker 20.10 cannot read back (others keep a local copy: dual logging). */
  async *containerLogs(idOrName: string, options: LogOptions): AsyncGenerator<LogChunk> {
    if (options.signal.aborted) return;
    await this.enter('logs', idOrName);
    const c = this.containers.mustFind(idOrName);
    if (c.spec.logConfig?.type === 'none') {
      throw new DockerApiError('logs', 501, 'configured logging driver does not support reading');
    }
    options.onOpen?.();
    yield* this.output.read(c.id, options, () => this.containers.get(c.id)?.state === 'running');
  }

  // --- internals ---

  /** `cancel`: the caller's abort ends the call at once, also while `delayNext` holds it. */
  private async enter(op: FakeOperation, arg: string, cancel?: { signal: AbortSignal; error: () => Error }): Promise<void> {
    this.calls.push({ op, arg });
    if (cancel?.signal.aborted) throw cancel.error();
    const gate = this.delays.get(op)?.shift();
    if (gate) await (cancel ? raceAbort(gate, cancel.signal, cancel.error) : gate);
    if (this.unavailable) throw new DockerUnavailableError(`fake docker is down (${op})`);
    const failure = this.failures.get(op)?.shift();
    if (failure) throw failure;
  }

  private exit(c: FakeContainer, exitCode: number, oomKilled: boolean): void {
    c.state = 'exited';
    c.exitCode = exitCode;
    c.oomKilled = oomKilled;
    this.ports.release(c.portBindings);
    c.portBindings = [];
    c.pid = undefined;
    c.ipAddress = undefined;
    // Docker reports a stopped container with a healthcheck as unhealthy, without an event.
    if (c.health !== undefined) c.health = 'unhealthy';
    c.finishedAt = this.log.tickMs();
    this.output.ended();
    this.emit(c, 'die', { exitCode });
  }

  private emit(c: FakeContainer, action: string, detail: { exitCode?: number; health?: DockerHealth } = {}): void {
    this.log.push({
      dockerId: c.id,
      action,
      ...(detail.exitCode === undefined ? {} : { exitCode: detail.exitCode }),
      ...(detail.health === undefined ? {} : { health: detail.health }),
      labels: { ...c.spec.labels },
      timeNano: String(this.log.tick()),
    });
  }
}

import { dockerVolumeName, isInstanceOf, isOwnedBy, ownershipFilter, volumeLabels } from '../api/labels.js';
import { labelMatches } from './drift/definition-hash.js';
import { containerSpec } from './container-spec.js';
import type { ContainerState, ImagePullBehavior, TaskState } from '../api/task.js';
import type { ContainerInfo, ContainerSpec, DockerClient, ImageInfo } from '../docker/docker-client.js';
import { ContainerNotFoundError, DockerApiError, ImageNotFoundError, NameConflictError, PullCancelledError, errorMessage } from '../errors.js';
import type { CredentialsFor } from '../docker/registry-auth/registry-credentials.js';
import type { Logger } from '../log/logger.js';
import type { Clock, Random } from '../util/clock.js';
import type { Action, ActionKind, AvailableImage, Outcome } from './actions.js';
import { ImagePuller, type PullRetryPolicy } from './image-puller.js';
import { digestFor } from './images/image-digest.js';
import type { ImageRecords } from './images/image-records.js';
import { afterPullFailure, beforePull } from './images/pull-decision.js';
import type { MetadataLocation } from './metadata/metadata-location.js';

/** How the executor makes images available: the agent's pull settings and the image records it notes pulls and uses in. */
export interface ExecutorPulls {
  /** Docker pulls at once, across tasks. */
  readonly maxConcurrent: number;
  /** The agent's behaviour; a container definition's `imagePullBehavior` overrides it. */
  readonly behavior: ImagePullBehavior;
  readonly policy: PullRetryPolicy;
  readonly records: ImageRecords;
  readonly clock: Clock;
  readonly random: Random;
}

/** Writes a container's metadata file before its create (--container-metadata); undefined: it could not. */
export interface MetadataPreparer {
  prepare(task: TaskState, c: ContainerState): Promise<MetadataLocation | undefined>;
}

/** Told of every action performed: its kind, whether it worked, and how long it took. */
export interface TransitionObserver {
  observeTransition(kind: ActionKind, result: 'success' | 'failure', seconds: number): void;
}
import type { PullProgressHub } from './pull-progress.js';
import { findContainer } from './task-state.js';

/**
 * The executor performs one planned action against Docker and reports what happened. It decides
 * nothing about the task: it only makes Docker calls safe to repeat (404 on stop/remove is done,
 * 409 on create is an adoption) and turns their results into outcomes.
 */
export class Executor {
  private readonly puller: ImagePuller;

  constructor(
    private readonly docker: DockerClient,
    private readonly agentId: string,
    private readonly log: Logger,
    private readonly pulls: ExecutorPulls,
    private readonly progress?: PullProgressHub,
    private readonly observer?: TransitionObserver,
    pullAuth?: CredentialsFor,
    private readonly metadata?: MetadataPreparer,
  ) {
    this.puller = new ImagePuller(docker, pulls.maxConcurrent, {
      policy: pulls.policy,
      clock: pulls.clock,
      random: pulls.random,
      log,
      ...(pullAuth ? { auth: pullAuth } : {}),
    });
  }

  /** Whether a pull of this image is in flight (image cleanup must not remove it meanwhile). */
  isPulling(image: string): boolean {
    return this.puller.isPulling(image);
  }

  /** Performs `action` and reports how long it took and whether it worked. */
  async run(task: TaskState, action: Action, signal?: AbortSignal): Promise<Outcome> {
    const started = performance.now();
    const outcome = await this.perform(task, action, signal);
    try {
      this.observer?.observeTransition(action.kind, outcome.kind === 'failed' ? 'failure' : 'success', (performance.now() - started) / 1000);
    } catch (error) {
      this.log.warn('Transition observer failed', { error: errorMessage(error) });
    }
    return outcome;
  }

  private async perform(task: TaskState, action: Action, signal: AbortSignal | undefined): Promise<Outcome> {
    if (action.kind === 'cleanup') return this.cleanup(task, action.targets, action.volumes);
    if (action.kind === 'provision-volume') return this.provisionVolume(task, action.volume, action.mode);
    if (action.kind === 'cancel') throw new Error('a cancel is carried out by the reconciler, not by Docker');
    if (action.kind === 'retire') return this.retire(task, action.container, action.ref, action.byName, action.timeoutSeconds);
    const c = findContainer(task, action.container);
    if (!c) throw new Error(`task ${task.arn} has no container ${action.container}`);
    const log = this.log.child({ taskArn: task.arn, container: c.definition.name, ...(c.dockerId ? { dockerId: c.dockerId } : {}) });
    try {
      switch (action.kind) {
        case 'abandon':
          if (action.reason) log.warn('Container will not be created', { reason: action.reason.code, detail: action.reason.message });
          else log.info('Container will not be started: the task is stopping');
          return { kind: 'abandoned', container: action.container, ...(action.reason ? { reason: action.reason } : {}) };
        case 'recreate':
          log.warn('Recreating the container, which drifted in Docker (--recreate-on-drift)', { reason: c.drift?.message });
          return { kind: 'recreating', container: action.container, dockerId: action.dockerId };
        case 'inspect':
          return await this.inspect(task, c, action.ref, log);
        case 'pull':
          return await this.pull(task, c, log, signal);
        case 'create':
          return await this.create(task, c, log);
        case 'start':
          return await this.start(c, action.dockerId, log);
        case 'stop':
          return await this.stop(c, action.dockerId, action.timeoutSeconds, log);
      }
    } catch (error) {
      return { kind: 'failed', container: action.container, action: action.kind, error };
    }
  }

  private async inspect(task: TaskState, c: ContainerState, ref: string, log: Logger): Promise<Outcome> {
    try {
      const info = await this.docker.inspectContainer(ref);
      log.debug('Inspected container', { dockerId: info.id, state: info.state });
      if (!c.dockerId && !this.isOurs(task, c, info.labels, info.id)) {
        log.warn('A container holds our name but is not this definition\'s (not our labels, or an older definition); not adopting it', { ref, dockerId: info.id });
        return { kind: 'gone', container: c.definition.name };
      }
      return { kind: 'observed', container: c.definition.name, info };
    } catch (error) {
      if (error instanceof ContainerNotFoundError) {
        if (c.dockerId) {
          log.warn('Container is gone from Docker', { ref });
          return { kind: 'gone', container: c.definition.name };
        }
        return this.findByLabels(task, c, log);
      }
      log.warn('Failed to inspect container', { ref, error: errorMessage(error) });
      throw error;
    }
  }

  /**
   * The last way to find a container whose ID was never saved and whose name is not there (renamed
   * behind the agent's back): this agent's labels for this task and container. With more than one,
   * the newest is adopted; the relist reports the rest as unknown and removes them after the grace.
   */
  private async findByLabels(task: TaskState, c: ContainerState, log: Logger): Promise<Outcome> {
    const listed = await this.docker.listContainers(ownershipFilter(this.agentId, { taskArn: task.arn, containerName: c.definition.name }));
    const found = listed.filter((f) => this.isOurs(task, c, f.labels, f.id));
    if (found.length === 0) return { kind: 'gone', container: c.definition.name };
    const info = (await Promise.all(found.map((f) => this.docker.inspectContainer(f.id)))).reduce((a, b) => ((b.createdAt ?? 0) > (a.createdAt ?? 0) ? b : a));
    log.info('Adopted existing container found by its labels', { dockerId: info.id, dockerName: info.name, state: info.state });
    return { kind: 'observed', container: c.definition.name, info };
  }

  /**
   * Makes the container's image available as its pull behaviour says (pull-decision.ts): reads the
   * local image, pulls or not, and on a failed pull runs the cached image or fails. Reports which,
   * with the image's ID and digest.
   */
  private async pull(task: TaskState, c: ContainerState, log: Logger, signal: AbortSignal | undefined): Promise<Outcome> {
    const image = c.definition.image;
    const behavior = c.definition.imagePullBehavior ?? this.pulls.behavior;
    const cached = await this.localImage(image);
    if (cached && beforePull(behavior, cached, this.pulls.records.get(image)) === 'use-cached') {
      log.info('Using the cached image', { image, behavior, imageId: cached.id });
      return this.available(c, { source: 'cached', imageId: cached.id, ...digestOf(image, cached) });
    }
    log.info('Pulling image…', { image, behavior });
    const started = Date.now();
    const tracker = this.progress?.track(task.arn, c.definition.name, image);
    try {
      await this.puller.pull(image, {
        onWaiting: (waiting) => {
          if (waiting) log.info('Waiting for a pull slot', { image });
          tracker?.onWaiting(waiting);
        },
        ...(tracker ? { onProgress: tracker.onProgress } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      tracker?.finish('failed');
      if (error instanceof PullCancelledError) {
        log.info('Pull cancelled', { image });
        return { kind: 'cancelled', container: c.definition.name };
      }
      if (cached && afterPullFailure(behavior, cached) === 'fallback-to-cached') {
        log.warn(`Failed to pull image; running the cached image ${cached.id}`, { image, behavior, imageId: cached.id, error: errorMessage(error) });
        return this.available(c, { source: 'cached-after-failure', imageId: cached.id, ...digestOf(image, cached), pullError: errorMessage(error) });
      }
      log.error('Failed to pull image', { image, behavior, error: errorMessage(error) });
      throw error;
    }
    tracker?.finish('pulled');
    const pulled = await this.localImage(image).catch((error: unknown) => {
      // The pull worked; not knowing its ID and digest only leaves them out of the report.
      log.warn('Pulled image, but failed to inspect it', { image, error: errorMessage(error) });
      return undefined;
    });
    const digest = pulled && digestFor(image, pulled);
    log.info('Pulled image', { image, ms: Date.now() - started, ...(pulled ? { imageId: pulled.id } : {}), ...(digest ? { digest } : {}) });
    if (pulled) void this.pulls.records.notePulled(image, { imageId: pulled.id, digest }, this.pulls.clock.now());
    return { kind: 'pulled', container: c.definition.name, image: { source: 'pulled', ...(pulled ? { imageId: pulled.id } : {}), ...(digest ? { digest } : {}) } };
  }

  /** The local image a reference names, or undefined when Docker has none. */
  private async localImage(image: string): Promise<ImageInfo | undefined> {
    try {
      return await this.docker.inspectImage(image);
    } catch (error) {
      if (error instanceof ImageNotFoundError) return undefined;
      throw error;
    }
  }

  private available(c: ContainerState, image: AvailableImage): Outcome {
    return { kind: 'pulled', container: c.definition.name, image };
  }

  private async create(task: TaskState, c: ContainerState, log: Logger): Promise<Outcome> {
    const metadata = await this.prepareMetadata(task, c, log);
    const spec = containerSpec(task, c, this.agentId, metadata);
    log.info('Creating container…', { dockerName: spec.name, image: spec.image });
    let id: string;
    try {
      id = await this.docker.createContainer(spec);
    } catch (error) {
      if (error instanceof NameConflictError) return this.adopt(task, c, spec.name, log);
      log.error('Failed to create container', { dockerName: spec.name, error: errorMessage(error) });
      throw error;
    }
    log.info('Created container', { dockerId: id });
    void this.pulls.records.noteUsed(spec.image, c.imageId, this.pulls.clock.now());
    try {
      return { kind: 'observed', container: c.definition.name, info: await this.docker.inspectContainer(id) };
    } catch (error) {
      // Docker made it and said so: its ID must be saved even if it cannot be read back right now.
      log.warn('Failed to inspect the new container; recording it as created', { dockerId: id, error: errorMessage(error) });
      return { kind: 'observed', container: c.definition.name, info: justCreated(id, spec) };
    }
  }

  /** As the ECS agent does, a container whose metadata file cannot be written is created without it. */
  private async prepareMetadata(task: TaskState, c: ContainerState, log: Logger): Promise<MetadataLocation | undefined> {
    if (!this.metadata) return undefined;
    const location = await this.metadata.prepare(task, c);
    if (!location) log.warn('Creating the container without its metadata file, which could not be written');
    return location;
  }

  /** A container with our deterministic name exists: made by an earlier run that crashed before saving its ID. */
  private async adopt(task: TaskState, c: ContainerState, name: string, log: Logger): Promise<Outcome> {
    const info = await this.docker.inspectContainer(name);
    if (isOwnedBy(info.labels, this.agentId, task.arn, c.definition.name) && !this.isOurs(task, c, info.labels, info.id)) {
      // Ours, but made from an older definition (a retirement lost with a crash): never adopted as the new one.
      log.warn('Removing a stale container that holds the name, made from an older definition', { dockerId: info.id });
      await this.docker.stopContainer(info.id, c.definition.stopTimeout);
      await this.docker.removeContainer(info.id);
      return this.create(task, c, log);
    }
    if (!this.isOurs(task, c, info.labels, info.id)) {
      throw new DockerApiError('create', 409, `name ${name} is taken by a container that does not belong to this task`);
    }
    log.info('Adopted existing container', { dockerId: info.id, state: info.state });
    return { kind: 'observed', container: c.definition.name, info };
  }

  private async start(c: ContainerState, id: string, log: Logger): Promise<Outcome> {
    log.info('Starting container…');
    try {
      await this.docker.startContainer(id);
    } catch (error) {
      if (error instanceof ContainerNotFoundError) return { kind: 'gone', container: c.definition.name };
      log.error('Failed to start container', { error: errorMessage(error) });
      throw error;
    }
    return this.inspectAfter('Started container', c, id, log);
  }

  /**
   * Reads a container back after an action Docker accepted. A failure here is a failed inspect,
   * not a failed action: the container is re-read later rather than given up.
   */
  private async inspectAfter(done: string, c: ContainerState, id: string, log: Logger): Promise<Outcome> {
    try {
      const info = await this.docker.inspectContainer(id);
      log.info(done, { state: info.state, exitCode: info.exitCode, ports: info.portBindings });
      return { kind: 'observed', container: c.definition.name, info };
    } catch (error) {
      if (error instanceof ContainerNotFoundError) return { kind: 'gone', container: c.definition.name };
      log.warn(`${done}, but failed to inspect it`, { error: errorMessage(error) });
      return { kind: 'failed', container: c.definition.name, action: 'inspect', error };
    }
  }

  private async stop(c: ContainerState, id: string, timeoutSeconds: number, log: Logger): Promise<Outcome> {
    log.info('Stopping container…', { timeoutSeconds });
    try {
      await this.docker.stopContainer(id, timeoutSeconds);
    } catch (error) {
      if (error instanceof ContainerNotFoundError) {
        log.warn('Container to stop is already gone');
        return { kind: 'gone', container: c.definition.name };
      }
      log.error('Failed to stop container', { error: errorMessage(error) });
      throw error;
    }
    return this.inspectAfter('Stopped container', c, id, log);
  }

  /** Makes (or, for a shared volume without autoprovision, checks) one Docker volume of the task. */
  private async provisionVolume(task: TaskState, volume: string, mode: 'create' | 'require'): Promise<Outcome> {
    const def = task.settings.volumes.find((v) => v.name === volume);
    if (!def || def.kind === 'bind') throw new Error(`task ${task.arn} has no Docker volume ${volume}`);
    const dockerName = dockerVolumeName(task.arn, def, this.agentId);
    const log = this.log.child({ taskArn: task.arn, volume, dockerVolume: dockerName });
    try {
      if (mode === 'require') {
        await this.docker.inspectVolume(dockerName);
        log.info('Found shared volume');
      } else {
        log.info('Creating volume…', { driver: def.driver });
        await this.docker.createVolume({
          name: dockerName,
          driver: def.driver,
          driverOpts: def.driverOpts,
          labels: { ...def.labels, ...(def.kind === 'task' ? volumeLabels(task.arn, volume, this.agentId) : {}) },
        });
        log.info('Created volume');
      }
    } catch (error) {
      log.error(mode === 'require' ? 'Shared volume is missing' : 'Failed to create volume', { error: errorMessage(error) });
      return { kind: 'failed', volume, action: 'provision-volume', error };
    }
    return { kind: 'volume-ready', volume };
  }

  private async cleanup(task: TaskState, targets: readonly { container: string; ref: string }[], volumes: readonly string[]): Promise<Outcome> {
    const log = this.log.child({ taskArn: task.arn });
    log.info('Cleaning up task…', { containers: targets.length });
    try {
      for (const { container, ref } of targets) {
        try {
          const c = findContainer(task, container)!;
          // A name alone is only trusted once the container behind it proves to be ours.
          if (!c.dockerId && !isOwnedBy((await this.docker.inspectContainer(ref)).labels, this.agentId, task.arn, c.definition.name)) continue;
          // Stopped already, as a rule; but a record can be behind Docker (a start whose answer was
          // lost), and removing a running container fails forever. Stopping a stopped one is a no-op.
          await this.docker.stopContainer(ref, c.definition.stopTimeout);
          await this.docker.removeContainer(ref);
          log.info('Removed container', { container: c.definition.name, ref });
        } catch (error) {
          if (!(error instanceof ContainerNotFoundError)) throw error;
        }
      }
      for (const volume of volumes) {
        const def = task.settings.volumes.find((v) => v.name === volume);
        if (!def || def.kind !== 'task') continue;
        const dockerName = dockerVolumeName(task.arn, def, this.agentId);
        await this.docker.removeVolume(dockerName);
        log.info('Removed volume', { volume, dockerVolume: dockerName });
      }
    } catch (error) {
      log.error('Failed to clean up task', { error: errorMessage(error) });
      return { kind: 'failed', action: 'cleanup', error };
    }
    log.info('Cleaned up task');
    return { kind: 'cleaned' };
  }

  /**
   * Labels prove a container is this task's container, made by this agent from this definition:
   * only then is it adopted as it. An old instance still retiring never is, whatever its labels.
   */
  private isOurs(task: TaskState, c: ContainerState, labels: Readonly<Record<string, string>>, id: string): boolean {
    if (task.retiring?.some((r) => r.dockerId === id)) return false;
    return isInstanceOf(labels, this.agentId, task.arn, c.definition.name, (label) => labelMatches(label, c.definition, task.settings));
  }

  /**
   * Stops (its own stopTimeout) and removes an old instance of a container. By name, only a
   * container that is this task's is touched. Gone already counts as done, so a retry after a
   * crash finishes the job.
   */
  private async retire(task: TaskState, container: string, ref: string, byName: boolean, timeoutSeconds: number): Promise<Outcome> {
    const log = this.log.child({ taskArn: task.arn, container, ...(byName ? { dockerName: ref } : { dockerId: ref }) });
    try {
      if (byName && !isOwnedBy((await this.docker.inspectContainer(ref)).labels, this.agentId, task.arn, container)) {
        log.warn('The name of an old instance is held by a container that is not ours; leaving it');
        return { kind: 'retired', container, ref };
      }
      log.info('Stopping the old container…', { timeoutSeconds });
      await this.docker.stopContainer(ref, timeoutSeconds);
      await this.docker.removeContainer(ref);
      log.info('Removed the old container');
    } catch (error) {
      if (error instanceof ContainerNotFoundError) {
        log.info('The old container is already gone');
        return { kind: 'retired', container, ref };
      }
      log.error('Failed to remove the old container', { error: errorMessage(error) });
      return { kind: 'failed', retiring: container, action: 'retire', error };
    }
    return { kind: 'retired', container, ref };
  }
}

/** The digest field of a report, when the local image has one for the reference's repository. */
function digestOf(image: string, info: ImageInfo): { digest?: string } {
  const digest = digestFor(image, info);
  return digest === undefined ? {} : { digest };
}

/** What is known of a container Docker just created, when it cannot be inspected. */
function justCreated(id: string, spec: ContainerSpec): ContainerInfo {
  return { id, name: spec.name, image: spec.image, state: 'created', oomKilled: false, labels: spec.labels, portBindings: [] };
}

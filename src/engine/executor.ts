import { berthLabels, LABELS } from '../api/labels.js';
import type { ContainerState, TaskState } from '../api/task.js';
import type { ContainerSpec, DockerClient } from '../docker/docker-client.js';
import { ContainerNotFoundError, DockerApiError, NameConflictError, errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Action, ActionKind, Outcome } from './actions.js';

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
  constructor(
    private readonly docker: DockerClient,
    private readonly agentId: string,
    private readonly log: Logger,
    private readonly progress?: PullProgressHub,
    private readonly observer?: TransitionObserver,
  ) {}

  /** Performs `action` and reports how long it took and whether it worked. */
  async run(task: TaskState, action: Action): Promise<Outcome> {
    const started = performance.now();
    const outcome = await this.perform(task, action);
    this.observer?.observeTransition(action.kind, outcome.kind === 'failed' ? 'failure' : 'success', (performance.now() - started) / 1000);
    return outcome;
  }

  private async perform(task: TaskState, action: Action): Promise<Outcome> {
    if (action.kind === 'cleanup') return this.cleanup(task, action.dockerIds);
    const c = findContainer(task, action.container);
    if (!c) throw new Error(`task ${task.arn} has no container ${action.container}`);
    const log = this.log.child({ taskArn: task.arn, container: c.definition.name, ...(c.dockerId ? { dockerId: c.dockerId } : {}) });
    try {
      switch (action.kind) {
        case 'abandon':
          log.info('Container will not be started: the task is stopping');
          return { kind: 'abandoned', container: action.container };
        case 'inspect':
          return await this.inspect(c, action.ref, log);
        case 'pull':
          return await this.pull(task, c, log);
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

  private async inspect(c: ContainerState, ref: string, log: Logger): Promise<Outcome> {
    try {
      const info = await this.docker.inspectContainer(ref);
      log.debug('Inspected container', { dockerId: info.id, state: info.state });
      return { kind: 'observed', container: c.definition.name, info };
    } catch (error) {
      if (error instanceof ContainerNotFoundError) {
        if (c.dockerId) log.warn('Container is gone from Docker', { ref });
        return { kind: 'gone', container: c.definition.name };
      }
      log.warn('Failed to inspect container', { ref, error: errorMessage(error) });
      throw error;
    }
  }

  private async pull(task: TaskState, c: ContainerState, log: Logger): Promise<Outcome> {
    const image = c.definition.image;
    log.info('Pulling image…', { image });
    const started = Date.now();
    const tracker = this.progress?.track(task.arn, c.definition.name, image);
    try {
      await this.docker.pullImage(image, tracker ? { onProgress: tracker.onProgress } : {});
    } catch (error) {
      log.error('Failed to pull image', { image, error: errorMessage(error) });
      throw error;
    } finally {
      tracker?.finish();
    }
    log.info('Pulled image', { image, ms: Date.now() - started });
    return { kind: 'pulled', container: c.definition.name };
  }

  private async create(task: TaskState, c: ContainerState, log: Logger): Promise<Outcome> {
    const spec = containerSpec(task, c, this.agentId);
    log.info('Creating container…', { dockerName: spec.name, image: spec.image });
    let id: string;
    try {
      id = await this.docker.createContainer(spec);
    } catch (error) {
      if (error instanceof NameConflictError) return this.adopt(task, c, spec.name, log);
      log.error('Failed to create container', { dockerName: spec.name, error: errorMessage(error) });
      throw error;
    }
    const info = await this.docker.inspectContainer(id);
    log.info('Created container', { dockerId: id });
    return { kind: 'observed', container: c.definition.name, info };
  }

  /** A container with our deterministic name exists: made by an earlier run that crashed before saving its ID. */
  private async adopt(task: TaskState, c: ContainerState, name: string, log: Logger): Promise<Outcome> {
    const info = await this.docker.inspectContainer(name);
    const ours =
      info.labels[LABELS.taskArn] === task.arn && info.labels[LABELS.containerName] === c.definition.name;
    if (!ours) {
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
    const info = await this.docker.inspectContainer(id);
    log.info('Started container', { state: info.state, ports: info.portBindings });
    return { kind: 'observed', container: c.definition.name, info };
  }

  private async stop(c: ContainerState, id: string, timeoutSeconds: number, log: Logger): Promise<Outcome> {
    log.info('Stopping container…', { timeoutSeconds });
    try {
      await this.docker.stopContainer(id, timeoutSeconds);
      const info = await this.docker.inspectContainer(id);
      log.info('Stopped container', { exitCode: info.exitCode });
      return { kind: 'observed', container: c.definition.name, info };
    } catch (error) {
      if (error instanceof ContainerNotFoundError) {
        log.warn('Container to stop is already gone');
        return { kind: 'gone', container: c.definition.name };
      }
      log.error('Failed to stop container', { error: errorMessage(error) });
      throw error;
    }
  }

  private async cleanup(task: TaskState, dockerIds: readonly string[]): Promise<Outcome> {
    const log = this.log.child({ taskArn: task.arn });
    log.info('Cleaning up task…', { containers: dockerIds.length });
    try {
      for (const id of dockerIds) {
        try {
          await this.docker.removeContainer(id);
          log.info('Removed container', { dockerId: id });
        } catch (error) {
          if (!(error instanceof ContainerNotFoundError)) throw error;
        }
      }
    } catch (error) {
      log.error('Failed to clean up task', { error: errorMessage(error) });
      return { kind: 'failed', action: 'cleanup', error };
    }
    log.info('Cleaned up task');
    return { kind: 'cleaned' };
  }
}

/** The Docker container a definition becomes: the user's labels plus berth's, which always win. */
export function containerSpec(task: TaskState, c: ContainerState, agentId: string): ContainerSpec {
  const d = c.definition;
  return {
    name: c.dockerName,
    image: d.image,
    ...(d.command ? { command: d.command } : {}),
    ...(d.entryPoint ? { entryPoint: d.entryPoint } : {}),
    env: d.environment,
    labels: {
      ...d.labels,
      ...berthLabels({ taskArn: task.arn, family: task.family, version: task.version, containerName: d.name }, agentId),
    },
    portMappings: d.portMappings,
    stopTimeout: d.stopTimeout,
  };
}

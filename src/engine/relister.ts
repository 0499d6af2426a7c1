import { ownershipFilter } from '../api/labels.js';
import type { TaskState } from '../api/task.js';
import type { Reason } from '../api/reasons.js';
import { retaggedImages } from './drift/drift.js';
import type { DockerClient } from '../docker/docker-client.js';
import { ContainerNotFoundError, errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../util/clock.js';
import { Periodic } from '../util/periodic.js';
import { examineRelist } from './relist.js';

export interface RelistPolicy {
  /** How often this agent's containers are listed. */
  readonly intervalMs: number;
  /** How long a container carrying this agent's ID but unknown to it is left alone before removal. */
  readonly orphanGraceMs: number;
}

export interface RelistHooks {
  tasks(): readonly TaskState[];
  /** ARNs of tasks the saver holds but could not load: their containers are left alone. */
  unloaded(): ReadonlySet<string>;
  refresh(arn: string, container: string): void;
  /** A running container's image tag now names another image than the one it was made from (src/engine/drift/). */
  drifted(arn: string, container: string, why: Reason): void;
}

/** Seconds Docker gives an orphan between SIGTERM and SIGKILL. */
const ORPHAN_STOP_TIMEOUT_S = 10;

/**
 * Every `intervalMs`, one list call (filtered by this agent's ID label — never another agent's
 * containers, never unlabelled ones) is compared with the agent's records: contradictions are
 * re-read, and containers no task accounts for are reported, then removed after a grace period.
 */
export class Relister {
  private readonly unknown = new Map<string, number>();
  private readonly held = new Set<string>();
  private readonly periodic: Periodic;

  constructor(
    private readonly docker: DockerClient,
    private readonly agentId: string,
    private readonly hooks: RelistHooks,
    private readonly opts: { clock: Clock; policy: RelistPolicy; log: Logger },
  ) {
    this.periodic = new Periodic(opts.clock, { intervalMs: opts.policy.intervalMs }, () => this.runOnce(), (error) =>
      opts.log.debug('Relist skipped', { error: errorMessage(error) }),
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  /** One relist pass. Docker being down is not news: the pass is skipped and tried next time. */
  async runOnce(): Promise<void> {
    const listed = await this.docker.listContainers(ownershipFilter(this.agentId));
    const now = this.opts.clock.now();
    const found = examineRelist({ tasks: this.hooks.tasks(), listed, previouslyUnknown: this.unknown, unloaded: this.hooks.unloaded(), agentId: this.agentId, now });
    for (const r of found.refresh) this.hooks.refresh(r.arn, r.container);
    await this.checkImages();
    for (const h of found.held) {
      if (this.held.has(h.id)) continue;
      this.held.add(h.id);
      this.opts.log.warn('Leaving alone a container of a task whose saved rows could not be loaded (see the quarantine table)', { dockerId: h.id, name: h.name, taskArn: h.arn });
    }
    const still = new Set(found.unknown.map((u) => u.id));
    for (const id of [...this.unknown.keys()]) if (!still.has(id)) this.unknown.delete(id);
    for (const u of found.unknown) {
      if (!this.unknown.has(u.id)) {
        this.opts.log.warn('Found a container of this agent that no task accounts for', { dockerId: u.id, name: u.name, removeInMs: this.opts.policy.orphanGraceMs });
      }
      this.unknown.set(u.id, u.firstSeen);
      if (now - u.firstSeen >= this.opts.policy.orphanGraceMs) await this.removeOrphan(u.id, u.name);
    }
  }

  /**
   * Re-tag drift: one image inspect per distinct image reference of the running containers (not
   * per container, nor per event), compared with the image ID each container's record was made from.
   */
  private async checkImages(): Promise<void> {
    const tasks = this.hooks.tasks();
    const refs = new Set(tasks.flatMap((t) => t.containers.filter((c) => c.knownStatus === 'RUNNING' && c.imageId && !c.drift).map((c) => c.definition.image)));
    const now = new Map<string, string>();
    for (const ref of refs) {
      try {
        now.set(ref, (await this.docker.inspectImage(ref)).id);
      } catch {
        // Removed or unreadable: nothing to compare with this pass.
      }
    }
    for (const d of retaggedImages(tasks, now)) this.hooks.drifted(d.arn, d.container, d.why);
  }

  private async removeOrphan(id: string, name: string): Promise<void> {
    try {
      await this.docker.stopContainer(id, ORPHAN_STOP_TIMEOUT_S);
      await this.docker.removeContainer(id);
      this.opts.log.warn('Removed a container no task accounts for', { dockerId: id, name });
    } catch (error) {
      if (!(error instanceof ContainerNotFoundError)) {
        this.opts.log.warn('Failed to remove an unaccounted container; will retry', { dockerId: id, error: errorMessage(error) });
        return;
      }
    }
    this.unknown.delete(id);
  }
}

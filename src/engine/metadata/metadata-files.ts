import { join } from 'node:path';
import type { ContainerState, TaskState } from '../../api/task.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { metadataFileOf, renderMetadataFile, type MetadataSettings } from './metadata-file.js';
import { nodeMetadataIo, type MetadataIo } from './metadata-io.js';
import { metadataLocation, taskDirName, taskMetadataDir, type MetadataLocation } from './metadata-location.js';

export interface MetadataFilesOptions extends MetadataSettings {
  /** The host directory holding every task's metadata directory (`<data dir>/metadata`). */
  readonly root: string;
  readonly log: Logger;
  readonly io?: MetadataIo;
}

/** One container's file: what it should hold, and what it is known to hold. */
interface FileRecord {
  desired: string;
  /** Undefined: not known (never written by this run, or the last write failed). */
  written: string | undefined;
  /** `written` was read from the disk (or the read found nothing): a restart does not rewrite an unchanged file. */
  checked: boolean;
}

interface TaskFiles {
  readonly files: Map<string, FileRecord>;
  /** The task's writes and its removal, in order: never two at once, never a write after the removal. */
  chain: Promise<void>;
  /** A flush is queued on the chain and will pick up every desired content set before it runs. */
  flushQueued: boolean;
}

/**
 * Keeps each container's metadata file (README "Container metadata file") in step with the saved
 * state: written PENDING before the container is created, rewritten atomically whenever its
 * content changes (and only then), removed with the task. Fed every committed task value by the
 * store; all file work happens off that call, one task's in order, so the engine never waits on
 * the disk except for the one write before a create. A failed write is logged and tried again on
 * the task's next change; nothing here ever fails the engine.
 */
export class MetadataFiles {
  private readonly tasks = new Map<string, TaskFiles>();
  private readonly io: MetadataIo;

  constructor(private readonly opts: MetadataFilesOptions) {
    this.io = opts.io ?? nodeMetadataIo;
  }

  /** Where the container's file is, on the host and inside the container. */
  locationOf(taskArn: string, containerName: string): MetadataLocation {
    return metadataLocation(this.opts.root, taskArn, containerName);
  }

  /**
   * Writes the container's file (PENDING: it is about to be created) and resolves with its
   * location once it is on disk, for the bind mount. Undefined when it could not be written: as the
   * ECS agent does, the container is then created without its metadata rather than not at all.
   */
  async prepare(task: TaskState, c: ContainerState): Promise<MetadataLocation | undefined> {
    const files = this.filesOf(task.arn);
    const content = this.render(task, c);
    // Always written, even when unchanged: the directory must exist for the mount.
    files.files.set(c.definition.name, { desired: content, written: undefined, checked: true });
    this.queueFlush(task.arn, files);
    await files.chain;
    return files.files.get(c.definition.name)?.written === undefined ? undefined : this.locationOf(task.arn, c.definition.name);
  }

  /**
   * A task's newly saved value (undefined: it left the state). Containers that have a file, or
   * have a Docker container (so may have one from an earlier run), get their content recomputed.
   */
  observe(arn: string, task: TaskState | undefined): void {
    if (!task) {
      this.remove(arn);
      return;
    }
    let files = this.tasks.get(arn);
    let changed = false;
    for (const c of task.containers) {
      const record = files?.files.get(c.definition.name);
      if (!record && c.dockerId === undefined) continue;
      const content = this.render(task, c);
      if (record && record.written === content && record.desired === content) continue;
      files ??= this.filesOf(arn);
      if (record) record.desired = content;
      else files.files.set(c.definition.name, { desired: content, written: undefined, checked: false });
      changed = true;
    }
    if (changed && files) this.queueFlush(arn, files);
  }

  /**
   * At start-up: brings the loaded tasks' files up to date, and removes the directories of tasks
   * the state no longer holds (cleaned up while the agent was down). `keep`: tasks the saver holds
   * but could not load, whose containers may still read their files.
   */
  async start(tasks: readonly TaskState[], keep: Iterable<string>): Promise<void> {
    for (const t of tasks) this.observe(t.arn, t);
    const known = new Set([...tasks.map((t) => t.arn), ...keep].map(taskDirName));
    try {
      for (const name of await this.io.list(this.opts.root)) {
        if (known.has(name)) continue;
        await this.io.removeDir(join(this.opts.root, name));
        this.opts.log.info('Removed the metadata directory of a task no longer held', { directory: name });
      }
    } catch (error) {
      this.opts.log.warn('Failed to remove the metadata directories of tasks no longer held', { root: this.opts.root, error: errorMessage(error) });
    }
  }

  /** Resolves once every queued write and removal has finished. */
  async idle(): Promise<void> {
    while ([...this.tasks.values()].some((t) => t.flushQueued)) await Promise.all([...this.tasks.values()].map((t) => t.chain));
    await Promise.all([...this.tasks.values()].map((t) => t.chain));
  }

  private render(task: TaskState, c: ContainerState): string {
    return renderMetadataFile(metadataFileOf({ cluster: this.opts.cluster }, task, c));
  }

  private filesOf(arn: string): TaskFiles {
    let files = this.tasks.get(arn);
    if (!files) {
      files = { files: new Map(), chain: Promise.resolve(), flushQueued: false };
      this.tasks.set(arn, files);
    }
    return files;
  }

  private queueFlush(arn: string, files: TaskFiles): void {
    if (files.flushQueued) return;
    files.flushQueued = true;
    files.chain = files.chain.then(() => {
      files.flushQueued = false;
      return this.flush(arn, files);
    });
  }

  private async flush(arn: string, files: TaskFiles): Promise<void> {
    for (const [name, record] of files.files) {
      const { hostFile } = this.locationOf(arn, name);
      if (!record.checked) {
        record.written = await this.io.read(hostFile);
        record.checked = true;
      }
      const content = record.desired;
      if (record.written === content) continue;
      try {
        await this.io.writeAtomic(hostFile, content);
        record.written = content;
        this.opts.log.debug('Wrote container metadata file', { taskArn: arn, container: name, file: hostFile });
      } catch (error) {
        record.written = undefined;
        this.opts.log.warn('Failed to write the container metadata file; trying again on its next change', {
          taskArn: arn,
          container: name,
          file: hostFile,
          error: errorMessage(error),
        });
      }
    }
  }

  private remove(arn: string): void {
    const files = this.filesOf(arn);
    // Nothing queued is worth writing now: the directory goes.
    files.files.clear();
    const dir = taskMetadataDir(this.opts.root, arn);
    const removal = files.chain.then(async () => {
      try {
        await this.io.removeDir(dir);
      } catch (error) {
        this.opts.log.warn('Failed to remove the task metadata directory', { taskArn: arn, directory: dir, error: errorMessage(error) });
      }
    });
    files.chain = removal;
    // Kept until done, so idle() waits for it and a task coming back under the arn writes after it.
    void removal.then(() => {
      if (files.chain === removal && files.files.size === 0) this.tasks.delete(arn);
    });
  }
}

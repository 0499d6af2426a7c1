import type { TaskDefinition } from '../api/task.js';
import type { TaskEngine } from '../engine/task-engine.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { SourceItemError, SourceSink, SourceUpdate } from '../sources/task-source.js';

/**
 * INTERIM, until the source merger (src/sources/, issue 11 §1) lands and takes its place: drives
 * the engine straight from one source. ADD accepts the task (or raises its desired status), REMOVE
 * and a task missing from a SET stop it. With no per-source sets saved yet, an agent with etcd
 * endpoints takes its tasks from etcd only: its first SET stops every task not in it.
 *
 * Updates of one arn are applied in order; different arns go to the engine concurrently, so a SET
 * of a thousand tasks is saved in a few group commits.
 */
export class InterimSourceDriver implements SourceSink {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly log: Logger;

  constructor(
    private readonly engine: TaskEngine,
    log: Logger,
  ) {
    this.log = log.child({ component: 'etcd-driver' });
  }

  update(update: SourceUpdate): void {
    if (update.op === 'ADD') this.enqueue(update.task.definition.arn, () => this.add(update.task.definition));
    else if (update.op === 'REMOVE') this.enqueue(update.arn, () => this.stop(update.arn));
    else {
      const wanted = new Set(update.tasks.map((t) => t.definition.arn));
      for (const t of update.tasks) this.enqueue(t.definition.arn, () => this.add(t.definition));
      for (const task of this.engine.listTasks()) {
        if (!wanted.has(task.arn) && task.desiredStatus !== 'STOPPED') this.enqueue(task.arn, () => this.stop(task.arn));
      }
    }
  }

  /** The source logs each bad key as it finds it; showing them in views and `state dump` is the merger's. */
  errors(_errors: readonly SourceItemError[]): void {}

  private enqueue(arn: string, step: () => Promise<void>): void {
    const next = (this.chains.get(arn) ?? Promise.resolve()).then(step).catch((error: unknown) => {
      this.log.warn('Could not apply a task from etcd', { taskArn: arn, error: errorMessage(error) });
    });
    this.chains.set(arn, next);
    void next.then(() => {
      if (this.chains.get(arn) === next) this.chains.delete(arn);
    });
  }

  private async add(task: TaskDefinition): Promise<void> {
    await this.engine.addTask({ kind: 'definition', task });
  }

  private async stop(arn: string): Promise<void> {
    if (!this.engine.getTask(arn)) return;
    await this.engine.addTask({ kind: 'desired-status', arn, desiredStatus: 'STOPPED' });
  }
}

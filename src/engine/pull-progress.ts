import type { PullProgress } from '../docker/docker-client.js';

/** Where a container's image pull stands, summed over its layers. */
export interface PullProgressSnapshot {
  readonly taskArn: string;
  readonly containerName: string;
  readonly image: string;
  /** The latest status line, e.g. "Downloading", "Pull complete", "Digest: sha256:…". */
  readonly status: string;
  readonly layers: { readonly done: number; readonly total: number };
  /** Bytes, summed over layers that reported a size. */
  readonly current: number;
  readonly total: number;
  readonly done: boolean;
  /** Whether the pull is held back by the agent's limit on concurrent pulls, not yet asked of Docker. */
  readonly waiting: boolean;
  /** Present once done: whether the pull succeeded. */
  readonly result?: 'pulled' | 'failed';
}

export interface PullTracker {
  onProgress(p: PullProgress): void;
  onWaiting(waiting: boolean): void;
  finish(result: 'pulled' | 'failed'): void;
}

export type ProgressListener = (snapshot: PullProgressSnapshot) => void;

export const WAITING_STATUS = 'Waiting for a pull slot';

const LAYER_DONE = /^(Pull complete|Already exists|Download complete)$/;

/**
 * Turns Docker's per-layer pull progress lines into one snapshot per container, for clients that
 * show progress bars. Transient: nothing here is saved, and a client that is not listening misses nothing
 * it cannot get from the task itself.
 */
export class PullProgressHub {
  private readonly listeners = new Set<ProgressListener>();

  subscribe(listener: ProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  /** A per-pull tracker: feed it Docker's progress lines (and whether it waits for a slot), then `finish()`. */
  track(taskArn: string, containerName: string, image: string): PullTracker {
    const layers = new Map<string, { current: number; total: number; done: boolean }>();
    let status = 'Pulling';
    let waiting = false;
    const snapshot = (result?: 'pulled' | 'failed'): PullProgressSnapshot => {
      let current = 0;
      let total = 0;
      let finished = 0;
      for (const l of layers.values()) {
        current += l.current;
        total += l.total;
        if (l.done) finished += 1;
      }
      const base = { taskArn, containerName, image, status, layers: { done: finished, total: layers.size }, current, total, waiting };
      return result === undefined ? { ...base, done: false } : { ...base, done: true, result };
    };
    const publish = (result?: 'pulled' | 'failed'): void => {
      if (this.listeners.size === 0) return;
      const s = snapshot(result);
      for (const l of this.listeners) {
        try {
          l(s);
        } catch {
          // A listener's failure (a client gone away) must never fail the pull it watches.
        }
      }
    };
    return {
      onWaiting: (w) => {
        waiting = w;
        status = w ? WAITING_STATUS : 'Pulling';
        publish();
      },
      onProgress: (p) => {
        waiting = false;
        status = p.status;
        if (p.id && !p.status.startsWith('Pulling from')) {
          const layer = layers.get(p.id) ?? { current: 0, total: 0, done: false };
          if (p.total !== undefined) layer.total = p.total;
          if (p.current !== undefined) layer.current = p.current;
          if (LAYER_DONE.test(p.status)) {
            layer.done = true;
            layer.current = layer.total;
          }
          layers.set(p.id, layer);
        }
        publish();
      },
      finish: (result) => {
        waiting = false;
        publish(result);
      },
    };
  }
}

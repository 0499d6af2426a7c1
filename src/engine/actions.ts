import type { Reason } from '../api/reasons.js';
import type { ImageSource } from '../api/task.js';
import type { ContainerInfo } from '../docker/docker-client.js';

/** What a pull action made available. The ID and digest are absent only when Docker could not be asked after the pull. */
export interface AvailableImage {
  readonly source: ImageSource;
  readonly imageId?: string;
  /** The registry digest for the container's repository (`sha256:…`); absent for a local-only image. */
  readonly digest?: string;
  /** For `cached-after-failure`: why the pull failed. */
  readonly pullError?: string;
}

/**
 * What the planner decides and the executor performs. Each action concerns one container of one
 * task, one task volume, or (`cleanup`) the whole task.
 */
export type Action =
  /** Learn the container's real state from Docker (after a restart, or a Docker event). */
  | { readonly kind: 'inspect'; readonly container: string; readonly ref: string }
  | { readonly kind: 'pull'; readonly container: string; readonly image: string }
  | { readonly kind: 'create'; readonly container: string }
  | { readonly kind: 'start'; readonly container: string; readonly dockerId: string }
  | { readonly kind: 'stop'; readonly container: string; readonly dockerId: string; readonly timeoutSeconds: number }
  /**
   * The container never reached Docker and never will: it becomes STOPPED without a call, because
   * the task is stopping (no reason given) or because a dependency can no longer be met.
   */
  | { readonly kind: 'abandon'; readonly container: string; readonly reason?: Reason }
  /**
   * Stop (with its own stopTimeout) and remove an old instance of a container (task.retiring):
   * recreated or dropped by a new definition. `byName`: its ID was never saved, so the container
   * behind the name is removed only if it is ours.
   */
  | { readonly kind: 'retire'; readonly container: string; readonly ref: string; readonly byName: boolean; readonly timeoutSeconds: number }
  /**
   * The container drifted (changed behind the agent's back) and --recreate-on-drift is set: its
   * instance becomes retiring and the container starts afresh. No Docker call.
   */
  | { readonly kind: 'recreate'; readonly container: string; readonly dockerId: string }
  /** A pull in flight is no longer wanted (the task is stopping): abort it. */
  | { readonly kind: 'cancel'; readonly container: string }
  /**
   * Make sure a Docker volume the task mounts exists: `create` makes it (idempotent in Docker),
   * `require` only checks that a shared volume without autoprovision is there.
   */
  | { readonly kind: 'provision-volume'; readonly volume: string; readonly mode: 'create' | 'require' }
  /** Remove every Docker container of the task (by ID, else by name), then its task-scoped volumes, and forget the task. */
  | {
      readonly kind: 'cleanup';
      readonly targets: readonly { readonly container: string; readonly ref: string }[];
      /** Names (in the task definition) of the task-scoped volumes to remove. */
      readonly volumes: readonly string[];
    };

export type ActionKind = Action['kind'];

/** What performing an action showed. The engine turns outcomes into state; the executor does not. */
export type Outcome =
  /** The container's image is available: pulled, or a cached one chosen (README "Image pulls"). */
  | { readonly kind: 'pulled'; readonly container: string; readonly image: AvailableImage }
  /** Docker's view of the container after the action (create, start, stop, inspect, adoption). */
  | { readonly kind: 'observed'; readonly container: string; readonly info: ContainerInfo }
  /** Docker has no such container. */
  | { readonly kind: 'gone'; readonly container: string }
  | { readonly kind: 'abandoned'; readonly container: string; readonly reason?: Reason }
  /** A pull was aborted: by a stop request, or because the agent is shutting down. */
  | { readonly kind: 'cancelled'; readonly container: string }
  | { readonly kind: 'volume-ready'; readonly volume: string }
  | { readonly kind: 'cleaned' }
  /** An old instance is gone from Docker (stopped and removed, or it never existed). */
  | { readonly kind: 'retired'; readonly container: string; readonly ref: string }
  /** A drifted container's instance is to be replaced. */
  | { readonly kind: 'recreating'; readonly container: string; readonly dockerId: string }
  | {
      readonly kind: 'failed';
      readonly container?: string;
      readonly volume?: string;
      /** For a failed retire: the container name whose old instance it was. */
      readonly retiring?: string;
      readonly action: ActionKind;
      readonly error: unknown;
    };

/** The key a task volume's failures and in-flight work are kept under (container names cannot start with `#`). */
export const volumeKey = (volume: string): string => `#volume:${volume}`;

/** The key an old instance's retirement is kept under: apart from the new instance's, so its pull runs meanwhile. */
export const retireKey = (container: string): string => `#retire:${container}`;

/** The key the task's cleanup is kept under. */
export const CLEANUP_KEY = '#cleanup';

/** What an action is about: a container's name, a volume's key, or CLEANUP_KEY. */
export function actionTarget(action: Action): string {
  switch (action.kind) {
    case 'cleanup':
      return CLEANUP_KEY;
    case 'provision-volume':
      return volumeKey(action.volume);
    case 'retire':
      return retireKey(action.container);
    default:
      return action.container;
  }
}

/** What a failed outcome is about, with the same keys as `actionTarget`. */
export function failureTarget(o: Extract<Outcome, { kind: 'failed' }>): string {
  if (o.retiring !== undefined) return retireKey(o.retiring);
  if (o.container !== undefined) return o.container;
  if (o.volume !== undefined) return volumeKey(o.volume);
  return CLEANUP_KEY;
}

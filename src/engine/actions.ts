import type { ContainerInfo } from '../docker/docker-client.js';

/**
 * What the planner decides and the executor performs. Each action concerns one container of one
 * task, except `cleanup`, which concerns the whole task.
 */
export type Action =
  /** Learn the container's real state from Docker (after a restart, or a Docker event). */
  | { readonly kind: 'inspect'; readonly container: string; readonly ref: string }
  | { readonly kind: 'pull'; readonly container: string; readonly image: string }
  | { readonly kind: 'create'; readonly container: string }
  | { readonly kind: 'start'; readonly container: string; readonly dockerId: string }
  | { readonly kind: 'stop'; readonly container: string; readonly dockerId: string; readonly timeoutSeconds: number }
  /** The container never reached Docker and is no longer wanted: it becomes STOPPED without a call. */
  | { readonly kind: 'abandon'; readonly container: string }
  /** Remove every Docker container of the task (by ID, else by name) and forget the task. */
  | { readonly kind: 'cleanup'; readonly targets: readonly { readonly container: string; readonly ref: string }[] };

export type ActionKind = Action['kind'];

/** What performing an action showed. The engine turns outcomes into state; the executor does not. */
export type Outcome =
  | { readonly kind: 'pulled'; readonly container: string }
  /** Docker's view of the container after the action (create, start, stop, inspect, adoption). */
  | { readonly kind: 'observed'; readonly container: string; readonly info: ContainerInfo }
  /** Docker has no such container. */
  | { readonly kind: 'gone'; readonly container: string }
  | { readonly kind: 'abandoned'; readonly container: string }
  | { readonly kind: 'cleaned' }
  | { readonly kind: 'failed'; readonly container?: string; readonly action: ActionKind; readonly error: unknown };

export function actionTarget(action: Action): string | undefined {
  return action.kind === 'cleanup' ? undefined : action.container;
}

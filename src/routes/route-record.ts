import type { ContainerAction, StateChange } from '../api/events.js';
import type { ContainerStatus } from '../api/status.js';
import type { HealthStatus, PortBinding } from '../api/task.js';

/** Beacon's Container: the whole container as a route's receiver sees it. */
export interface RouteContainer {
  /** The Docker ID. */
  readonly id: string;
  readonly task: string;
  /** The container's name in its task definition. */
  readonly name: string;
  readonly service: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly bindings: readonly PortBinding[];
  readonly status: ContainerStatus;
  readonly health?: HealthStatus;
  readonly exitCode?: number;
}

/**
 * One record a route delivers: beacon's action view, or (when the route asks for it) berth's full
 * state-change event. `seq` is the feed position the record comes from, so a receiver that gets a
 * record twice (delivery is at least once) can tell.
 */
export type RouteRecord =
  | { readonly kind: 'action'; readonly seq: number; readonly action: ContainerAction; readonly container: RouteContainer; readonly at: string }
  | { readonly kind: 'event'; readonly seq: number; readonly event: StateChange };

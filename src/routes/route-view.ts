import type { StateChange } from '../api/events.js';
import { serviceName } from '../api/labels.js';
import type { ContainerState, TaskState } from '../api/task.js';
import { matchesLabels, type LabelFilter } from './label-filter.js';
import type { RouteContainer, RouteRecord } from './route-record.js';

/** What of the feed one route sends: its filter, and whether it wants berth's full events too. */
export interface RouteView {
  readonly filter: LabelFilter;
  readonly fullEvents: boolean;
}

/**
 * The records one feed event gives a route, in delivery order: beacon's action (when the event
 * implies one and the container matches the filter), then the full event (when the route asks
 * for them). A task event has no labels: only a route whose filter is empty gets it.
 */
export function routeRecords(view: RouteView, event: StateChange): RouteRecord[] {
  const matches = event.type === 'container' ? matchesLabels(view.filter, event.labels) : Object.keys(view.filter.labels).length === 0;
  if (!matches) return [];
  const records: RouteRecord[] = [];
  if (event.type === 'container' && event.action && event.dockerId) {
    records.push({ kind: 'action', seq: event.seq, action: event.action, container: containerOfEvent(event), at: event.at });
  }
  if (view.fullEvents) records.push({ kind: 'event', seq: event.seq, event });
  return records;
}

/** Beacon's Container from a container event, which carries the container's full last record. */
function containerOfEvent(e: StateChange): RouteContainer {
  return {
    id: e.dockerId ?? '',
    task: e.taskArn,
    name: e.containerName ?? '',
    service: e.service ?? '',
    labels: e.labels ?? {},
    bindings: e.portBindings ?? [],
    status: e.status,
    ...(e.health === undefined ? {} : { health: e.health }),
    ...(e.exitCode === undefined ? {} : { exitCode: e.exitCode }),
  };
}

/** Beacon's `Containers(filter)`: the running containers matching `filter`, ordered by task then position. */
export function runningContainers(tasks: readonly TaskState[], filter: LabelFilter): RouteContainer[] {
  return tasks
    .flatMap((t) => t.containers.filter((c) => c.knownStatus === 'RUNNING' && c.dockerId && matchesLabels(filter, c.definition.labels)).map((c) => containerOfState(t, c)))
    .sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : 0));
}

function containerOfState(t: TaskState, c: ContainerState): RouteContainer {
  return {
    id: c.dockerId ?? '',
    task: t.arn,
    name: c.definition.name,
    service: serviceName(t.family, c.definition.name),
    labels: c.definition.labels,
    bindings: c.portBindings,
    status: c.knownStatus,
    ...(c.health === undefined ? {} : { health: c.health }),
  };
}

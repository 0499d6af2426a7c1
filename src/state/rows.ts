import type { NewStateChange, StateChange } from '../api/events.js';
import type { ReasonCode } from '../api/reasons.js';
import { CONTAINER_STATUSES, DESIRED_STATUSES } from '../api/status.js';
import type { ContainerStatus, DesiredStatus, TaskStatus } from '../api/status.js';
import type { ContainerDefinition, ContainerState, PortBinding, TaskState } from '../api/task.js';
import { PersistenceError } from '../errors.js';
import type { StateCommit } from './saver.js';

/*
 * One mapping between domain values and the rows of migrations/001_init.sql, shared by the SQLite
 * saver, the read-only reader and the in-memory fake, so all three round-trip values identically:
 * an absent optional field is NULL in a row and absent (not `undefined`-valued) when read back.
 */

export interface TaskRow {
  arn: string;
  family: string;
  version: string;
  desired_status: DesiredStatus;
  known_status: TaskStatus;
  created_at: number;
  updated_at: number;
  stopped_at: number | null;
  cleaned_up: 0 | 1 | null;
}

export interface ContainerRow {
  task_arn: string;
  name: string;
  position: number;
  definition: string;
  docker_name: string;
  docker_id: string | null;
  desired_status: DesiredStatus;
  known_status: ContainerStatus;
  exit_code: number | null;
  reason_code: ReasonCode | null;
  reason_message: string | null;
  port_bindings: string;
  created_at: number | null;
  started_at: number | null;
  finished_at: number | null;
}

export interface EventRow {
  seq: number;
  type: 'container' | 'task';
  task_arn: string;
  container_name: string | null;
  docker_id: string | null;
  status: ContainerStatus;
  exit_code: number | null;
  reason: ReasonCode | null;
  reason_message: string | null;
  port_bindings: string | null;
  at: string;
}

export type NewEventRow = Omit<EventRow, 'seq'>;

export function taskToRows(task: TaskState): { task: TaskRow; containers: ContainerRow[] } {
  return {
    task: {
      arn: task.arn,
      family: task.family,
      version: task.version,
      desired_status: task.desiredStatus,
      known_status: task.knownStatus,
      created_at: task.createdAt,
      updated_at: task.updatedAt,
      stopped_at: task.stoppedAt ?? null,
      cleaned_up: task.cleanedUp === undefined ? null : task.cleanedUp ? 1 : 0,
    },
    containers: task.containers.map((c, position) => ({
      task_arn: task.arn,
      name: c.definition.name,
      position,
      definition: JSON.stringify(c.definition),
      docker_name: c.dockerName,
      docker_id: c.dockerId ?? null,
      desired_status: c.desiredStatus,
      known_status: c.knownStatus,
      exit_code: c.exitCode ?? null,
      reason_code: c.reason?.code ?? null,
      reason_message: c.reason?.message ?? null,
      port_bindings: JSON.stringify(c.portBindings),
      created_at: c.createdAt ?? null,
      started_at: c.startedAt ?? null,
      finished_at: c.finishedAt ?? null,
    })),
  };
}

/** `containers` must be this task's rows; they are put in definition order here. */
export function rowsToTask(row: TaskRow, containers: readonly ContainerRow[]): TaskState {
  return {
    arn: row.arn,
    family: row.family,
    version: row.version,
    desiredStatus: row.desired_status,
    knownStatus: row.known_status,
    containers: [...containers].sort((a, b) => a.position - b.position).map(rowToContainer),
    settings: { networkMode: 'bridge', volumes: [] },
    provisionedVolumes: [],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(row.stopped_at !== null && { stoppedAt: row.stopped_at }),
    ...(row.cleaned_up !== null && { cleanedUp: row.cleaned_up === 1 }),
  };
}

function rowToContainer(row: ContainerRow): ContainerState {
  return {
    definition: JSON.parse(row.definition) as ContainerDefinition,
    dockerName: row.docker_name,
    ...(row.docker_id !== null && { dockerId: row.docker_id }),
    desiredStatus: row.desired_status,
    knownStatus: row.known_status,
    ...(row.exit_code !== null && { exitCode: row.exit_code }),
    ...(row.reason_code !== null && {
      reason: { code: row.reason_code, message: row.reason_message ?? '' },
    }),
    portBindings: JSON.parse(row.port_bindings) as PortBinding[],
    ...(row.created_at !== null && { createdAt: row.created_at }),
    ...(row.started_at !== null && { startedAt: row.started_at }),
    ...(row.finished_at !== null && { finishedAt: row.finished_at }),
  };
}

export function eventToRow(event: NewStateChange): NewEventRow {
  return {
    type: event.type,
    task_arn: event.taskArn,
    container_name: event.containerName ?? null,
    docker_id: event.dockerId ?? null,
    status: event.status,
    exit_code: event.exitCode ?? null,
    reason: event.reason ?? null,
    reason_message: event.reasonMessage ?? null,
    port_bindings: event.portBindings === undefined ? null : JSON.stringify(event.portBindings),
    at: event.at,
  };
}

export function rowToEvent(row: EventRow): StateChange {
  return {
    seq: row.seq,
    type: row.type,
    taskArn: row.task_arn,
    ...(row.container_name !== null && { containerName: row.container_name }),
    ...(row.docker_id !== null && { dockerId: row.docker_id }),
    status: row.status,
    ...(row.exit_code !== null && { exitCode: row.exit_code }),
    ...(row.reason !== null && { reason: row.reason }),
    ...(row.reason_message !== null && { reasonMessage: row.reason_message }),
    ...(row.port_bindings !== null && { portBindings: JSON.parse(row.port_bindings) as PortBinding[] }),
    at: row.at,
  };
}

/**
 * Rejects, before anything is written, a commit the schema would refuse or could not round-trip
 * (NaN becomes NULL in SQLite, a fraction fails an INTEGER column). Both savers call it, so the
 * in-memory fake refuses exactly what production refuses and with the same message.
 */
export function checkCommit(commit: StateCommit): void {
  const issues: string[] = [];
  const issue = (path: string, message: string): void => void issues.push(`${path}: ${message}`);
  const removed = new Set(commit.remove ?? []);
  const seen = new Set<string>();
  (commit.remove ?? []).forEach((arn, i) => {
    if (typeof arn !== 'string' || arn === '') issue(`remove[${i}]`, 'must be a non-empty string');
  });
  (commit.put ?? []).forEach((task, i) => {
    const at = `put[${i}]`;
    if (typeof task.arn !== 'string' || task.arn === '') issue(`${at}.arn`, 'must be a non-empty string');
    if (seen.has(task.arn)) issue(`${at}.arn`, `task ${task.arn} is put twice`);
    if (removed.has(task.arn)) issue(`${at}.arn`, `task ${task.arn} is both put and removed`);
    seen.add(task.arn);
    strings(issue, at, task, ['family', 'version']);
    oneOf(issue, `${at}.desiredStatus`, task.desiredStatus, DESIRED_STATUSES);
    oneOf(issue, `${at}.knownStatus`, task.knownStatus, CONTAINER_STATUSES);
    integers(issue, at, task, ['createdAt', 'updatedAt'], false);
    integers(issue, at, task, ['stoppedAt'], true);
    if (task.cleanedUp !== undefined && typeof task.cleanedUp !== 'boolean') {
      issue(`${at}.cleanedUp`, 'must be a boolean');
    }
    if (!Array.isArray(task.containers)) {
      issue(`${at}.containers`, 'must be an array');
      return;
    }
    const names = new Set<string>();
    task.containers.forEach((c, j) => {
      const cat = `${at}.containers[${j}]`;
      const name = c.definition?.name;
      if (typeof name !== 'string' || name === '') issue(`${cat}.definition.name`, 'must be a non-empty string');
      else if (names.has(name)) issue(`${cat}.definition.name`, `duplicate container name ${JSON.stringify(name)}`);
      names.add(name);
      strings(issue, cat, c, ['dockerName']);
      optionalStrings(issue, cat, c, ['dockerId']);
      oneOf(issue, `${cat}.desiredStatus`, c.desiredStatus, DESIRED_STATUSES);
      oneOf(issue, `${cat}.knownStatus`, c.knownStatus, CONTAINER_STATUSES);
      integers(issue, cat, c, ['exitCode', 'createdAt', 'startedAt', 'finishedAt'], true);
      if (c.reason !== undefined) strings(issue, `${cat}.reason`, c.reason, ['code', 'message']);
      if (!Array.isArray(c.portBindings)) issue(`${cat}.portBindings`, 'must be an array');
    });
  });
  (commit.events ?? []).forEach((event, i) => {
    const at = `events[${i}]`;
    oneOf(issue, `${at}.type`, event.type, ['container', 'task'] as const);
    if (typeof event.taskArn !== 'string' || event.taskArn === '') {
      issue(`${at}.taskArn`, 'must be a non-empty string');
    }
    oneOf(issue, `${at}.status`, event.status, CONTAINER_STATUSES);
    optionalStrings(issue, at, event, ['containerName', 'dockerId', 'reason', 'reasonMessage']);
    integers(issue, at, event, ['exitCode'], true);
    if (event.portBindings !== undefined && !Array.isArray(event.portBindings)) {
      issue(`${at}.portBindings`, 'must be an array');
    }
    if (typeof event.at !== 'string' || event.at === '') issue(`${at}.at`, 'must be a non-empty string');
  });
  if (issues.length > 0) throw new PersistenceError(`invalid state commit: ${issues.join('; ')}`);
}

type Issue = (path: string, message: string) => void;

function oneOf(issue: Issue, path: string, value: unknown, allowed: readonly string[]): void {
  if (!allowed.includes(value as string)) {
    issue(path, `${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  }
}

function strings<T extends object>(issue: Issue, at: string, obj: T, keys: readonly (keyof T & string)[]): void {
  for (const key of keys) if (typeof obj[key] !== 'string') issue(`${at}.${key}`, 'must be a string');
}

function optionalStrings<T extends object>(
  issue: Issue,
  at: string,
  obj: T,
  keys: readonly (keyof T & string)[],
): void {
  for (const key of keys) {
    if (obj[key] !== undefined && typeof obj[key] !== 'string') issue(`${at}.${key}`, 'must be a string');
  }
}

function integers<T extends object>(
  issue: Issue,
  at: string,
  obj: T,
  keys: readonly (keyof T & string)[],
  optional: boolean,
): void {
  for (const key of keys) {
    const value = obj[key];
    if (optional && value === undefined) continue;
    if (!Number.isSafeInteger(value)) issue(`${at}.${key}`, `${String(value)} is not an integer`);
  }
}

/** `eventsAfter` arguments; LIMIT -1 would mean "no limit" to SQLite, so negatives are refused. */
export function checkPaging(after: number, limit: number): void {
  if (!Number.isSafeInteger(after)) throw new RangeError(`after must be an integer, got ${after}`);
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
}

export function checkMeta(key: string, value: string): void {
  if (typeof key !== 'string' || key === '') throw new PersistenceError('meta key must be a non-empty string');
  if (typeof value !== 'string') throw new PersistenceError(`meta ${key}: value must be a string`);
}

export function checkRetention(policy: { keepLast: number; olderThan: string }): void {
  if (!Number.isSafeInteger(policy.keepLast) || policy.keepLast < 0) {
    throw new RangeError(`keepLast must be a non-negative integer, got ${policy.keepLast}`);
  }
  if (Number.isNaN(Date.parse(policy.olderThan))) {
    throw new RangeError(`olderThan must be an ISO-8601 time, got ${JSON.stringify(policy.olderThan)}`);
  }
}

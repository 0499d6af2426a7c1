import { formatPath, SHORT_FORM_KEYS, taskDefinitionSchema } from '../api/schema.js';
import { CONTAINER_STATUSES, DESIRED_STATUSES } from '../api/status.js';
import { containerDefinition, type ContainerDefinition, type PortBinding, type TaskState } from '../api/task.js';
import { errorMessage } from '../errors.js';
import { rowsToTask } from './rows.js';
import type { ContainerRow, TaskRow } from './rows.js';

/**
 * Checks every task read from the database on its own, so that one bad row costs one task and not
 * the agent's start-up. What the engine writes always passes (it only saves tasks the API schema
 * accepted, through checkCommit); what fails here was half-written by a crash outside a
 * transaction, edited by hand, or is valid only under rules this build no longer has.
 */

/** A task (or a group of container rows) that cannot be loaded, and why, for an operator. */
export interface LoadProblem {
  readonly arn: string;
  readonly reason: string;
}

export interface Decoded {
  readonly tasks: TaskState[];
  readonly problems: LoadProblem[];
}

/** `tasks` in the order given; `problems` for bad tasks first, then orphaned container rows. */
export function decodeTasks(taskRows: readonly TaskRow[], containerRows: readonly ContainerRow[]): Decoded {
  const byTask = new Map<string, ContainerRow[]>();
  for (const row of containerRows) {
    const rows = byTask.get(row.task_arn);
    if (rows) rows.push(row);
    else byTask.set(row.task_arn, [row]);
  }
  const tasks: TaskState[] = [];
  const problems: LoadProblem[] = [];
  for (const row of taskRows) {
    const containers = byTask.get(row.arn) ?? [];
    byTask.delete(row.arn);
    const result = decodeTask(row, containers);
    if ('task' in result) tasks.push(result.task);
    else problems.push({ arn: row.arn, reason: result.reason });
  }
  for (const [arn, rows] of byTask) {
    const names = rows.map((r) => r.name).join(', ');
    problems.push({ arn, reason: `${rows.length} container row(s) (${names}) whose task row is missing` });
  }
  return { tasks, problems };
}

export function decodeTask(row: TaskRow, containers: readonly ContainerRow[]): { task: TaskState } | { reason: string } {
  if (containers.length === 0) return { reason: 'half-written task: the task row has no container rows' };
  const issues: string[] = [];
  status(issues, 'task', 'desired_status', row.desired_status, DESIRED_STATUSES);
  status(issues, 'task', 'known_status', row.known_status, CONTAINER_STATUSES);
  integer(issues, 'task', 'created_at', row.created_at, false);
  integer(issues, 'task', 'updated_at', row.updated_at, false);
  integer(issues, 'task', 'stopped_at', row.stopped_at, true);
  if (row.cleaned_up !== null && row.cleaned_up !== 0 && row.cleaned_up !== 1) {
    issues.push(`task cleaned_up ${JSON.stringify(row.cleaned_up)} is not 0, 1 or NULL`);
  }

  const sorted = [...containers].sort((a, b) => a.position - b.position);
  const definitions: unknown[] = [];
  const bindings: PortBinding[][] = [];
  for (const c of sorted) {
    const at = `container ${c.name}`;
    status(issues, at, 'desired_status', c.desired_status, DESIRED_STATUSES);
    status(issues, at, 'known_status', c.known_status, CONTAINER_STATUSES);
    for (const key of ['exit_code', 'created_at', 'started_at', 'finished_at'] as const) integer(issues, at, key, c[key], true);
    if ((c.reason_code === null) !== (c.reason_message === null)) issues.push(`${at}: reason_code and reason_message must both be set or both NULL`);
    const definition = json(issues, at, 'definition', c.definition);
    definitions.push(definition);
    if (isObject(definition) && definition.name !== c.name) {
      issues.push(`${at}: its definition is named ${JSON.stringify(definition.name)}`);
    }
    const ports = json(issues, at, 'port_bindings', c.port_bindings);
    if (ports !== undefined && !Array.isArray(ports)) issues.push(`${at}: port_bindings is not a JSON array`);
    bindings.push(Array.isArray(ports) ? (ports as PortBinding[]) : []);
  }
  // Only definitions that parsed can be validated; validating the rest would only repeat "not JSON".
  if (definitions.every((d) => d !== undefined)) {
    const parsed = taskDefinitionSchema.safeParse({
      arn: row.arn,
      family: row.family,
      version: row.version,
      desiredStatus: DESIRED_STATUSES.includes(row.desired_status) ? row.desired_status : 'RUNNING',
      containers: definitions.map((d) => (isObject(d) ? pick(d, SHORT_FORM_KEYS) : d)),
    });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) issues.push(`definition no longer validates: ${describePath(issue.path, sorted)}: ${issue.message}`);
    } else {
      definitions.splice(0, definitions.length, ...parsed.data.containers.map((c, i) => containerDefinition({ ...(definitions[i] as object), ...c })));
    }
  }
  if (issues.length > 0) return { reason: issues.join('; ') };

  // The validated definitions (defaults filled in) replace the raw JSON; rowsToTask then maps the rest.
  const task = rowsToTask(row, sorted);
  return {
    task: {
      ...task,
      containers: task.containers.map((c, i) => ({
        ...c,
        definition: definitions[i] as ContainerDefinition,
        portBindings: bindings[i] ?? [],
      })),
    },
  };
}

/** `containers[1].image` becomes `container web: image`, naming the row an operator would look for. */
function describePath(path: readonly PropertyKey[], rows: readonly ContainerRow[]): string {
  if (path[0] === 'containers' && typeof path[1] === 'number') {
    const rest = formatPath(path.slice(2));
    return `container ${rows[path[1]]?.name ?? `#${path[1]}`}${rest ? `: ${rest}` : ''}`;
  }
  return formatPath(path) || 'task';
}

function status(issues: string[], at: string, column: string, value: unknown, allowed: readonly string[]): void {
  if (!allowed.includes(value as string)) {
    issues.push(`${at}: unknown ${column} ${JSON.stringify(value)} (expected one of ${allowed.join(', ')})`);
  }
}

function integer(issues: string[], at: string, column: string, value: unknown, nullable: boolean): void {
  if (nullable && value === null) return;
  if (!Number.isSafeInteger(value)) issues.push(`${at}: ${column} ${JSON.stringify(value)} is not an integer`);
}

function json(issues: string[], at: string, column: string, text: unknown): unknown {
  if (typeof text !== 'string') {
    issues.push(`${at}: ${column} is not text`);
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    issues.push(`${at}: ${column} is not valid JSON (${errorMessage(err)})`);
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pick(obj: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]]));
}

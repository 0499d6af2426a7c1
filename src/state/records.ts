import { CONTAINER_ACTIONS, type NewStateChange } from '../api/events.js';
import type { ImageRecord } from '../api/image-record.js';
import { PARSE_RULES_VERSION } from '../api/rules-version.js';
import { CONTAINER_STATUSES, DESIRED_STATUSES } from '../api/status.js';
import type { AdmissionWait, ContainerState, NetworkAttachment, RetiringContainer, TaskState } from '../api/task.js';
import { array, boolean, integer, nonEmptyText, object, oneOf, optional, positiveInteger, record, text } from './codec.js';
import { storedRecord } from './record.js';
import { containerDefinition, healthStatus, portBinding, reason, reasonCode, SETTINGS_DEFAULTS, taskSettings } from './stored-model.js';

/*
 * What the state database keeps of each task, container and event: the one declaration its
 * storage, its commit check (checkCommit), its load check (decode.ts) and its round-trip follow.
 *
 * Adding a field to TaskState, ContainerState or NewStateChange takes, besides the field in its
 * type (src/api/), one line here:
 *   1. add it to that record's `fields` with its codec (codec.ts, stored-model.ts), wrapped in
 *      optional(...) if the field is optional; the record fails to compile until you do;
 *   2. if rows saved before the field existed must load with a value rather than without one,
 *      give that value in `defaults`.
 * It is then stored in the row's `extra` JSON column: no migration, no column list, no fixture.
 * Give it a column (in `columns`, plus a migration) only when SQL itself needs it: a CHECK, an
 * index, a WHERE or ORDER BY. Adding a field to a ContainerDefinition is the same one line, in
 * stored-model.ts. Adding a field never needs a new schema fixture; a migration does.
 *
 * Loading ignores a key it does not declare, so a build that is one field behind still loads what
 * a newer one saved under the same schema version (its next save of that task drops the field).
 */

export type TaskRecord = Omit<TaskState, 'containers'>;

export const TASK = storedRecord<TaskRecord>({
  fields: {
    arn: nonEmptyText,
    family: text,
    version: text,
    desiredStatus: oneOf(DESIRED_STATUSES),
    knownStatus: oneOf(CONTAINER_STATUSES),
    settings: taskSettings,
    provisionedVolumes: array(text),
    rules: optional(positiveInteger),
    createdAt: integer,
    updatedAt: integer,
    stoppedAt: optional(integer),
    cleanedUp: optional(boolean),
    waiting: optional(object<AdmissionWait>({ position: integer, message: text })),
    generation: optional(positiveInteger),
    retiring: optional(array(object<RetiringContainer>({ name: text, dockerId: optional(text), dockerName: text, stopTimeout: integer, after: array(text) }))),
    source: optional(text),
    conflicts: optional(array(text)),
  },
  defaults: { settings: SETTINGS_DEFAULTS, provisionedVolumes: [] },
  columns: {
    arn: 'arn',
    family: 'family',
    version: 'version',
    desiredStatus: 'desired_status',
    knownStatus: 'known_status',
    // A column, so that SQL finds the tasks that older rules accepted.
    rules: 'rules',
    createdAt: 'created_at',
    updatedAt: 'updated_at',
    stoppedAt: 'stopped_at',
    cleanedUp: 'cleaned_up',
  },
  // Every new task has this build's version; the model leaves it out (TaskState.rules).
  implicit: { rules: PARSE_RULES_VERSION },
});

/** Columns of a container row that are not fields of ContainerState: which task, and where in it. */
export const CONTAINER_KEYS = ['task_arn', 'name', 'position'] as const;

export const CONTAINER = storedRecord<ContainerState>({
  fields: {
    definition: containerDefinition,
    dockerName: text,
    dockerId: optional(text),
    desiredStatus: oneOf(DESIRED_STATUSES),
    knownStatus: oneOf(CONTAINER_STATUSES),
    exitCode: optional(integer),
    reason: optional(reason),
    portBindings: array(portBinding),
    health: optional(healthStatus),
    imageId: optional(text),
    imageDigest: optional(text),
    imageSource: optional(oneOf(['pulled', 'cached', 'cached-after-failure'])),
    pullFailure: optional(text),
    createdAt: optional(integer),
    startedAt: optional(integer),
    finishedAt: optional(integer),
    networks: optional(record(object<NetworkAttachment>({ ipAddress: optional(text) }))),
    pid: optional(integer),
    hostname: optional(text),
    restartCount: optional(integer),
    lastExitCode: optional(integer),
    lastRestartAt: optional(integer),
    lastFinishedAt: optional(integer),
    drift: optional(reason),
  },
  columns: {
    definition: 'definition',
    dockerName: 'docker_name',
    dockerId: 'docker_id',
    desiredStatus: 'desired_status',
    knownStatus: 'known_status',
    exitCode: 'exit_code',
    reason: { code: 'reason_code', message: 'reason_message' },
    portBindings: 'port_bindings',
    createdAt: 'created_at',
    startedAt: 'started_at',
    finishedAt: 'finished_at',
  },
});

export const EVENT = storedRecord<NewStateChange>({
  fields: {
    type: oneOf(['container', 'task']),
    taskArn: nonEmptyText,
    containerName: optional(text),
    dockerId: optional(text),
    status: oneOf(CONTAINER_STATUSES),
    exitCode: optional(integer),
    reason: optional(reasonCode),
    reasonMessage: optional(text),
    portBindings: optional(array(portBinding)),
    health: optional(healthStatus),
    restartCount: optional(integer),
    imageDigest: optional(text),
    imageSource: optional(oneOf(['pulled', 'cached', 'cached-after-failure'])),
    action: optional(oneOf(CONTAINER_ACTIONS)),
    service: optional(text),
    labels: optional(record(text)),
    generation: optional(positiveInteger),
    at: nonEmptyText,
  },
  columns: {
    type: 'type',
    taskArn: 'task_arn',
    containerName: 'container_name',
    dockerId: 'docker_id',
    status: 'status',
    exitCode: 'exit_code',
    reason: 'reason',
    reasonMessage: 'reason_message',
    portBindings: 'port_bindings',
    at: 'at',
  },
});

export const IMAGE = storedRecord<ImageRecord>({
  fields: {
    ref: nonEmptyText,
    imageId: optional(text),
    digest: optional(text),
    pulledAt: optional(integer),
    lastUsedAt: integer,
  },
  columns: { ref: 'ref' },
});

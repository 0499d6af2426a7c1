import { createHash } from 'node:crypto';

/** Every label berth puts on a container, in one place. User labels may not use the `berth.` prefix. */
export const LABELS = {
  taskArn: 'berth.task-arn',
  containerName: 'berth.container-name',
  taskFamily: 'berth.task-family',
  taskVersion: 'berth.task-version',
  agentId: 'berth.agent-id',
  /** On task-scoped Docker volumes: the volume's name in the task definition. */
  volumeName: 'berth.volume-name',
  /** What the container was made from (src/engine/drift/definition-hash.ts): `v1:<sha256 hex>`. */
  definitionHash: 'berth.definition-hash',
} as const;

export const RESERVED_LABEL_PREFIX = 'berth.';

/**
 * The labels a user sets that the agent reads (they keep the `berth.` prefix, as Datadog's
 * `com.datadoghq.ad.*` do): `berth.ad.id` names a container's AD identifiers in the services view.
 */
export const USER_LABELS = {
  adIdentifiers: 'berth.ad.id',
} as const;

const USER_LABEL_KEYS: ReadonlySet<string> = new Set(Object.values(USER_LABELS));

/** The one rule for which label keys a task definition may not set: the agent's own `berth.*` ones. */
export function isReservedLabel(key: string): boolean {
  return key.startsWith(RESERVED_LABEL_PREFIX) && !USER_LABEL_KEYS.has(key);
}

/**
 * The one rule for "this container is ours": it is a given task's container, made by this agent,
 * only when all three of its labels say so. Adoption, removal, relist and event routing all ask it.
 */
export function ownerOf(labels: Readonly<Record<string, string>>, agentId: string): { taskArn: string; containerName: string } | undefined {
  const taskArn = labels[LABELS.taskArn];
  const containerName = labels[LABELS.containerName];
  if (labels[LABELS.agentId] !== agentId || !taskArn || !containerName) return undefined;
  return { taskArn, containerName };
}

export function isOwnedBy(labels: Readonly<Record<string, string>>, agentId: string, taskArn: string, containerName: string): boolean {
  const owner = ownerOf(labels, agentId);
  return owner !== undefined && owner.taskArn === taskArn && owner.containerName === containerName;
}

/**
 * The one rule for adopting a container found by name or labels as a container's instance: it is
 * ours (isOwnedBy) and made from that container's definition, as its hash label says. A stale
 * one (an older definition) is never adopted as the new one. A container without the label was
 * made before labels carried hashes and is taken as it always was, so an upgrade recreates nothing.
 */
export function isInstanceOf(
  labels: Readonly<Record<string, string>>,
  agentId: string,
  taskArn: string,
  containerName: string,
  hashMatches: (label: string) => boolean,
): boolean {
  if (!isOwnedBy(labels, agentId, taskArn, containerName)) return false;
  const label = labels[LABELS.definitionHash];
  return label === undefined || hashMatches(label);
}

/** The label filter that lists (or watches) exactly what `ownerOf` may claim: this agent's containers, or one task's one container. */
export function ownershipFilter(agentId: string, container?: { taskArn: string; containerName: string }): Record<string, string> {
  return {
    [LABELS.agentId]: agentId,
    ...(container ? { [LABELS.taskArn]: container.taskArn, [LABELS.containerName]: container.containerName } : {}),
  };
}

export interface ContainerIdentity {
  readonly taskArn: string;
  readonly family: string;
  readonly version: string;
  readonly containerName: string;
}

/** The labels that tie a Docker container back to its task, its definition and this agent. */
export function berthLabels(identity: ContainerIdentity, agentId: string): Record<string, string> {
  return {
    [LABELS.taskArn]: identity.taskArn,
    [LABELS.containerName]: identity.containerName,
    [LABELS.taskFamily]: identity.family,
    [LABELS.taskVersion]: identity.version,
    [LABELS.agentId]: agentId,
  };
}

/** Docker limits nothing here, but long names are unreadable in `docker ps`; the hash keeps them unique. */
const MAX_READABLE_PART = 40;

/**
 * The Docker name of a container: deterministic, so that after a crash between `create` and saving
 * the ID the agent finds the container by name instead of making a second one. The agent's ID is
 * part of the hash so that two agents sharing a daemon never contend for one name, even for the
 * same task ARN. `berth-<family>-<version>-<container>-<12 hex of sha256(agent/arn/container)>`.
 */
export function dockerNameFor(identity: ContainerIdentity, agentId: string): string {
  const hash = createHash('sha256')
    .update(`${agentId}\0${identity.taskArn}\0${identity.containerName}`)
    .digest('hex')
    .slice(0, 12);
  const readable = `${identity.family}-${identity.version}-${identity.containerName}`
    .replace(/[^a-zA-Z0-9_.-]/g, '-')
    .slice(0, MAX_READABLE_PART);
  return `berth-${readable}-${hash}`;
}

/** The labels of a task-scoped Docker volume: whose it is, like a container's. */
export function volumeLabels(taskArn: string, volume: string, agentId: string): Record<string, string> {
  return { [LABELS.taskArn]: taskArn, [LABELS.volumeName]: volume, [LABELS.agentId]: agentId };
}

/**
 * The Docker name of a task volume. A shared volume is the name the definition gives it (it is
 * meant to be found by other tasks); a task-scoped one is deterministic, like a container's, so a
 * restarted agent finds the volume it made: `berth-<volume>-<12 hex of sha256(agent/arn/volume)>`.
 * Part of the persistent contract: changing it would orphan the volumes of running tasks.
 */
export function dockerVolumeName(taskArn: string, volume: { readonly name: string; readonly kind: 'task' | 'shared' }, agentId: string): string {
  if (volume.kind === 'shared') return volume.name;
  const hash = createHash('sha256').update(`${agentId}\0${taskArn}\0${volume.name}`).digest('hex').slice(0, 12);
  return `berth-${volume.name.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, MAX_READABLE_PART)}-${hash}`;
}

/**
 * A container's service name, as route receivers and the services view see it: the task family
 * says what the task is, the container name which part of it. Stable across the task's restarts
 * and across tasks of one family, so a registry groups the tasks' containers under one name.
 */
export function serviceName(family: string, containerName: string): string {
  return `${family}/${containerName}`;
}

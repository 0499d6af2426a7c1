import { isOwnedBy, ownerOf } from '../api/labels.js';
import type { TaskState } from '../api/task.js';
import type { ContainerSummary } from '../docker/docker-client.js';

/**
 * What one relist of this agent's containers means. Pure: the engine lists, this decides.
 * Docker is the truth; events are only the fast path, and this catches whatever they missed.
 */
export interface RelistFindings {
  /** Containers whose recorded state may be wrong: re-read them (a missing one becomes ContainerMissing). */
  readonly refresh: readonly { readonly arn: string; readonly container: string }[];
  /** Containers carrying this agent's ID that no task accounts for, with when each was first seen. */
  readonly unknown: readonly { readonly id: string; readonly name: string; readonly firstSeen: number }[];
  /** Containers of tasks whose saved rows could not be loaded (quarantined): never removed. */
  readonly held: readonly { readonly id: string; readonly name: string; readonly arn: string }[];
}

export interface RelistInput {
  readonly tasks: readonly TaskState[];
  /** One `listContainers({berth.agent-id: ours})` answer. */
  readonly listed: readonly ContainerSummary[];
  /** Unknown containers of earlier relists, with when each was first seen. */
  readonly previouslyUnknown: ReadonlyMap<string, number>;
  /** ARNs of tasks the saver holds but could not load. */
  readonly unloaded: ReadonlySet<string>;
  readonly agentId: string;
  readonly now: number;
}

/**
 * Compares the agent's records with one list of its containers.
 * - A container recorded as CREATED or RUNNING but absent from the list, or listed in a state that
 *   contradicts the record, is re-read.
 * - A listed container of a task that could not be loaded is held: its rows wait in quarantine for
 *   an operator, and removing its container would destroy the workload they describe.
 * - Any other listed container no task accounts for is unknown; `firstSeen` carries over from
 *   earlier relists so a grace period can run before it is removed.
 */
export function examineRelist({ tasks, listed, previouslyUnknown, unloaded, agentId, now }: RelistInput): RelistFindings {
  const byId = new Map(listed.map((c) => [c.id, c]));
  const accounted = new Set<string>();
  const refresh: Array<{ arn: string; container: string }> = [];
  for (const t of tasks) {
    // An old instance still being retired is the task's to remove, not an orphan.
    for (const r of t.retiring ?? []) if (r.dockerId && byId.has(r.dockerId)) accounted.add(r.dockerId);
    for (const c of t.containers) {
      const mine = c.dockerId ? byId.get(c.dockerId) : listed.find((l) => isOwnedBy(l.labels, agentId, t.arn, c.definition.name));
      if (mine) accounted.add(mine.id);
      if (c.knownStatus !== 'CREATED' && c.knownStatus !== 'RUNNING') continue;
      if (!mine || contradicts(c.knownStatus, mine.state)) refresh.push({ arn: t.arn, container: c.definition.name });
    }
  }
  const unknown: Array<RelistFindings['unknown'][number]> = [];
  const held: Array<RelistFindings['held'][number]> = [];
  for (const l of listed) {
    if (accounted.has(l.id)) continue;
    const arn = ownerOf(l.labels, agentId)?.taskArn;
    if (arn !== undefined && unloaded.has(arn)) held.push({ id: l.id, name: l.name, arn });
    else unknown.push({ id: l.id, name: l.name, firstSeen: previouslyUnknown.get(l.id) ?? now });
  }
  return { refresh, unknown, held };
}

function contradicts(known: 'CREATED' | 'RUNNING', state: ContainerSummary['state']): boolean {
  if (state === 'exited' || state === 'dead') return true;
  return known === 'CREATED' && state !== 'created';
}

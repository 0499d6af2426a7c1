import { isWaitingForResources, type ContainerState, type TaskState, type VolumeDefinition } from '../api/task.js';
import { CLEANUP_KEY, retireKey, volumeKey, type Action, type ActionKind } from './actions.js';
import { dependencyVerdict, dependentsOf } from './dependencies.js';
import { reason } from '../api/reasons.js';
import { resolveEnvironment } from './templates/resolve-templates.js';
import { isTaskDone } from './task-state.js';

/**
 * The planner: task + what the engine knows → the actions to perform next. Pure — it performs
 * nothing and reads no clock. It plans for the whole task at once, so that dependencies gate
 * creation, the shutdown runs dependents first, and volumes exist before what mounts them.
 * Containers with no ordering between them advance in the same plan, concurrently.
 */

export { CLEANUP_KEY } from './actions.js';

export interface PlanInput {
  readonly task: TaskState;
  readonly now: number;
  readonly cleanupWaitMs: number;
  /** Containers whose real state must be read from Docker before anything else is done to them. */
  readonly refresh: ReadonlySet<string>;
  /** Containers, volume keys or CLEANUP_KEY waiting out a retry backoff, with when they may be tried again. */
  readonly retryAt: ReadonlyMap<string, number>;
  /** Containers, volume keys or CLEANUP_KEY with an action still running, and its kind. */
  readonly inFlight?: ReadonlyMap<string, ActionKind>;
  /** --recreate-on-drift: a container that drifted in Docker is made anew. Absent: reported only. */
  readonly recreateOnDrift?: boolean;
}

export interface Plan {
  readonly actions: readonly Action[];
  /** When the task next needs attention even if nothing happens (a backoff ends, a startTimeout passes, cleanup is due). */
  readonly wakeAt?: number;
}

export function plan(input: PlanInput): Plan {
  const { task, now } = input;
  const inFlight = input.inFlight ?? new Map<string, ActionKind>();
  const actions: Action[] = [];
  let wakeAt: number | undefined;
  const wakeNoLaterThan = (at: number): void => {
    wakeAt = wakeAt === undefined ? at : Math.min(wakeAt, at);
  };
  const waiting = (key: string): boolean => {
    const at = input.retryAt.get(key);
    if (at === undefined || at <= now) return false;
    wakeNoLaterThan(at);
    return true;
  };
  const done = (): Plan => (wakeAt === undefined ? { actions } : { actions, wakeAt });

  // Not admitted yet (src/engine/admission/): nothing is done in Docker until the host has room.
  // Asked to stop, it leaves the queue and its containers are abandoned below, with no Docker call.
  if (isWaitingForResources(task)) return done();

  // Old instances of recreated or dropped containers go first, dependents before their dependencies.
  const retiring = task.retiring ?? [];
  for (const r of retiring) {
    const key = retireKey(r.name);
    if (inFlight.has(key) || waiting(key)) continue;
    if (r.after.some((name) => retiring.some((x) => x.name === name))) continue;
    actions.push({ kind: 'retire', container: r.name, ref: r.dockerId ?? r.dockerName, byName: r.dockerId === undefined, timeoutSeconds: r.stopTimeout });
  }

  if (isTaskDone(task)) {
    if (inFlight.size > 0 || retiring.length > 0) return done();
    const due = Math.max((task.stoppedAt ?? now) + input.cleanupWaitMs, input.retryAt.get(CLEANUP_KEY) ?? 0);
    if (due > now) return { actions, wakeAt: due };
    // By name when no ID was saved: a create whose answer was lost may still have made the container.
    const targets = task.containers.map((c) => ({ container: c.definition.name, ref: c.dockerId ?? c.dockerName }));
    const volumes = task.settings.volumes.filter((v) => v.kind === 'task').map((v) => v.name);
    return { actions: [{ kind: 'cleanup', targets, volumes }] };
  }

  const volumesWanted = new Set<string>();
  for (const c of task.containers) {
    const name = c.definition.name;
    const running = inFlight.get(name);
    if (running !== undefined) {
      // A stop request overtakes a pull: the pull is aborted, the container then abandoned.
      if (running === 'pull' && c.desiredStatus === 'STOPPED') actions.push({ kind: 'cancel', container: name });
      continue;
    }
    // A stop request overtakes a backoff: abandoning a container that never reached Docker needs
    // no Docker call (one to be re-read first, as after a failed create, still waits).
    const abandonNow = c.desiredStatus === 'STOPPED' && (c.knownStatus === 'NONE' || c.knownStatus === 'PULLED') && !input.refresh.has(name);
    if (!abandonNow && waiting(name)) continue;
    if (input.refresh.has(name)) {
      if (c.knownStatus !== 'STOPPED') actions.push({ kind: 'inspect', container: name, ref: c.dockerId ?? c.dockerName });
      continue;
    }
    if (input.recreateOnDrift && c.drift && c.dockerId && c.desiredStatus === 'RUNNING' && c.knownStatus !== 'STOPPED') {
      actions.push({ kind: 'recreate', container: name, dockerId: c.dockerId });
      continue;
    }
    const step = c.desiredStatus === 'STOPPED' ? stopStep(task, c) : bringUpStep(input, c, volumesWanted, wakeNoLaterThan);
    if (step) actions.push(step);
  }
  for (const volume of volumesWanted) {
    const key = volumeKey(volume);
    if (inFlight.has(key) || waiting(key)) continue;
    const def = task.settings.volumes.find((v) => v.name === volume)!;
    actions.push({ kind: 'provision-volume', volume, mode: def.kind === 'shared' && !def.autoprovision ? 'require' : 'create' });
  }
  return done();
}

/** Shutdown: a container that never reached Docker is abandoned; one that did is stopped once everything depending on it has stopped. */
function stopStep(task: TaskState, c: ContainerState): Action | undefined {
  const container = c.definition.name;
  switch (c.knownStatus) {
    case 'NONE':
    case 'PULLED':
      return { kind: 'abandon', container };
    case 'CREATED':
    case 'RUNNING': {
      const blockers = dependentsOf(task, container).filter((d) => task.containers.find((x) => x.definition.name === d)?.knownStatus !== 'STOPPED');
      if (blockers.length > 0) return undefined;
      return { kind: 'stop', container, dockerId: requireId(c), timeoutSeconds: c.definition.stopTimeout };
    }
    case 'STOPPED':
      return undefined;
  }
}

/** Bring-up: pull at once; create once the dependencies are met and the volumes exist; then start. */
function bringUpStep(
  input: PlanInput,
  c: ContainerState,
  volumesWanted: Set<string>,
  wakeNoLaterThan: (at: number) => void,
): Action | undefined {
  const { task, now } = input;
  const container = c.definition.name;
  switch (c.knownStatus) {
    case 'NONE':
      return { kind: 'pull', container, image: c.definition.image };
    case 'PULLED': {
      // Its old instance holds the name (and maybe its ports) until it is removed.
      if (task.retiring?.some((r) => r.name === container)) return undefined;
      const verdict = dependencyVerdict(task, c, now);
      if (verdict.kind === 'failed') return { kind: 'abandon', container, reason: verdict.reason };
      if (verdict.kind === 'wait') {
        if (verdict.until !== undefined) wakeNoLaterThan(verdict.until);
        return undefined;
      }
      // The containers it refers to have started: what they are now is what it gets, or never created.
      const env = resolveEnvironment(task, c);
      if (!env.ok) return { kind: 'abandon', container, reason: reason('TemplateVariableUnresolved', env.message) };
      const missing = dockerVolumesOf(task.settings.volumes, c).filter((v) => !task.provisionedVolumes.includes(v));
      if (missing.length > 0) {
        for (const v of missing) volumesWanted.add(v);
        return undefined;
      }
      return { kind: 'create', container };
    }
    case 'CREATED':
      return { kind: 'start', container, dockerId: requireId(c) };
    case 'RUNNING':
    case 'STOPPED':
      return undefined;
  }
}

/** The Docker volumes (task or shared, not bind mounts) a container mounts, by volume name. */
function dockerVolumesOf(volumes: readonly VolumeDefinition[], c: ContainerState): string[] {
  const names = new Set(c.definition.mountPoints.map((m) => m.sourceVolume));
  return volumes.filter((v) => v.kind !== 'bind' && names.has(v.name)).map((v) => v.name);
}

/** A CREATED or RUNNING container always has its ID: it is saved in the same step that records the status. */
function requireId(c: ContainerState): string {
  if (!c.dockerId) throw new Error(`container ${c.definition.name} is ${c.knownStatus} but has no Docker ID`);
  return c.dockerId;
}

/** One line per action, for logs and for tests that compare plans as text. */
export function formatPlan(p: Plan): string {
  const lines = p.actions.map(formatAction);
  if (p.wakeAt !== undefined) lines.push(`wake at ${new Date(p.wakeAt).toISOString()}`);
  return lines.length === 0 ? '(nothing to do)' : lines.join('\n');
}

export function formatAction(a: Action): string {
  switch (a.kind) {
    case 'inspect':
      return `inspect ${a.container} (${a.ref})`;
    case 'pull':
      return `pull ${a.container} ${a.image}`;
    case 'create':
      return `create ${a.container}`;
    case 'start':
      return `start ${a.container} ${a.dockerId.slice(0, 12)}`;
    case 'stop':
      return `stop ${a.container} ${a.dockerId.slice(0, 12)} timeout=${a.timeoutSeconds}s`;
    case 'abandon':
      return a.reason ? `abandon ${a.container} ${a.reason.code}: ${a.reason.message}` : `abandon ${a.container}`;
    case 'cancel':
      return `cancel pull ${a.container}`;
    case 'retire':
      return `retire ${a.container} ${/^[0-9a-f]{64}$/.test(a.ref) ? a.ref.slice(0, 12) : a.ref} timeout=${a.timeoutSeconds}s`;
    case 'recreate':
      return `recreate drifted ${a.container} ${a.dockerId.slice(0, 12)}`;
    case 'provision-volume':
      return `${a.mode === 'create' ? 'create' : 'require'} volume ${a.volume}`;
    case 'cleanup': {
      const refs = a.targets.map((t) => (/^[0-9a-f]{64}$/.test(t.ref) ? t.ref.slice(0, 12) : t.ref));
      return `cleanup ${[...refs, ...a.volumes.map((v) => `volume:${v}`)].join(' ')}`;
    }
  }
}

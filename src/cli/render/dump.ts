import type { ImageRecord } from '../../api/image-record.js';
import { isWaitingForResources, type TaskState } from '../../api/task.js';
import { taskView, type TaskView } from '../../api/view.js';
import { taskHealth } from '../../api/health.js';
import { progressOf, type RouteProgress } from '../../routes/route-progress.js';
import type { SavedSources } from '../../state/saver.js';
import { savedSourceStatuses } from '../../sources/saved-sources.js';
import type { SourceStatus } from '../../sources/source-status.js';
import { age, durationText, exitText, ports, reasonText, restartsText, shortId, table } from './format.js';

export interface DumpInput {
  readonly databasePath: string;
  readonly schemaVersion: number;
  readonly meta: Readonly<Record<string, string>>;
  readonly config: Record<string, unknown> | undefined;
  readonly tasks: readonly TaskState[];
  readonly lastSeq: number;
  readonly eventCount: number;
  /** Rows that do not decode; the agent quarantines them at its next start. */
  readonly problems?: readonly DumpProblem[];
  /** Rows the agent already quarantined. */
  readonly quarantined?: readonly { readonly arn: string; readonly reason: string; readonly quarantinedAt: string }[];
  /** The images the agent tracks; image cleanup removes the unused ones, least recently used first. */
  readonly images?: readonly ImageRecord[];
  /** Each task source's saved set (README "Task sources"). */
  readonly sources?: SavedSources;
}

export interface DumpProblem {
  readonly arn: string;
  readonly reason: string;
}

/** A task that has not moved toward its desired status for longer than the threshold. */
export interface Stuck {
  readonly forMs: number;
  readonly since: string;
  readonly from: string;
  readonly to: string;
}

/**
 * Stuck means: not yet where it is headed, and no saved change for `stuckAfterMs`. Every step
 * of a reconciler saves the task, so a quiet `updatedAt` is a transition that is not progressing.
 */
export function stuck(task: TaskState, now: number, stuckAfterMs: number): Stuck | undefined {
  const target = task.desiredStatus;
  // Waiting for host resources is not a transition failing to progress; the task line says why.
  if (task.knownStatus === target || isWaitingForResources(task)) return undefined;
  const forMs = now - task.updatedAt;
  if (forMs < stuckAfterMs) return undefined;
  return { forMs, since: new Date(task.updatedAt).toISOString(), from: task.knownStatus, to: target };
}

export type DumpTask = TaskView & { readonly updatedAt: string; readonly stuck: Stuck | null };

/** The `--json` / `--yaml` document: one shape for both. */
export interface DumpDocument {
  readonly database: string;
  readonly schemaVersion: number;
  readonly agentId: string | null;
  readonly eventCount: number;
  readonly lastSeq: number;
  readonly stuckAfterMs: number;
  readonly config: Record<string, unknown> | null;
  readonly tasks: readonly DumpTask[];
  readonly problems: readonly DumpProblem[];
  readonly quarantined: readonly { readonly arn: string; readonly reason: string; readonly quarantinedAt: string }[];
  readonly images: readonly DumpImage[];
  readonly routes: readonly DumpRoute[];
  readonly sources: readonly SourceStatus[];
}

/** A route's saved progress; `lag` counts the feed's events after its cursor. */
export type DumpRoute = RouteProgress & { readonly name: string; readonly lag: number };

export interface DumpImage {
  readonly ref: string;
  readonly imageId: string | null;
  readonly lastUsedAt: string;
  readonly pulledAt: string | null;
}

export function dumpDocument(dump: DumpInput, now: number, stuckAfterMs: number): DumpDocument {
  return {
    database: dump.databasePath,
    schemaVersion: dump.schemaVersion,
    agentId: dump.meta['agent-id'] ?? null,
    eventCount: dump.eventCount,
    lastSeq: dump.lastSeq,
    stuckAfterMs,
    config: dump.config ?? null,
    tasks: dump.tasks.map((t) => ({
      ...taskView(t),
      updatedAt: new Date(t.updatedAt).toISOString(),
      stuck: stuck(t, now, stuckAfterMs) ?? null,
    })),
    problems: (dump.problems ?? []).map(({ arn, reason }) => ({ arn, reason })),
    // The raw rows stay out: they are for repair with sqlite3, and may hold environment secrets.
    quarantined: (dump.quarantined ?? []).map(({ arn, reason, quarantinedAt }) => ({ arn, reason, quarantinedAt })),
    images: (dump.images ?? []).map((i) => ({
      ref: i.ref,
      imageId: i.imageId ?? null,
      lastUsedAt: new Date(i.lastUsedAt).toISOString(),
      pulledAt: i.pulledAt === undefined ? null : new Date(i.pulledAt).toISOString(),
    })),
    routes: dumpRoutes(dump),
    sources: dumpSources(dump),
  };
}

function dumpSources(dump: DumpInput): SourceStatus[] {
  return savedSourceStatuses(dump.sources ?? { tasks: [], revisions: {} }, dump.meta);
}

function dumpRoutes(dump: DumpInput): DumpRoute[] {
  return [...progressOf(dump.meta)].map(([name, p]) => ({ name, ...p, lag: Math.max(0, dump.lastSeq - p.seq) }));
}

export function stuckText(s: Stuck, now: number): string {
  return `STUCK ${age(now - s.forMs, now)} (${s.from} -> ${s.to})`;
}

export function formatDump(dump: DumpInput, now: number, stuckAfterMs: number): string {
  const flagged = dump.tasks.map((t) => stuck(t, now, stuckAfterMs));
  const stuckCount = flagged.filter(Boolean).length;
  const waitingCount = dump.tasks.filter(isWaitingForResources).length;
  const out: string[] = [
    `database     ${dump.databasePath} (schema v${dump.schemaVersion})`,
    `agent id     ${dump.meta['agent-id'] ?? '(not yet assigned)'}`,
    `events       ${dump.eventCount} kept, last seq ${dump.lastSeq}`,
    `tasks        ${dump.tasks.length}${stuckCount ? `, ${stuckCount} STUCK (no progress for ${durationText(stuckAfterMs)} or more)` : ''}` +
      (waitingCount ? `, ${waitingCount} waiting for resources` : ''),
    ...problemLines(dump),
    ...routeLines(dumpRoutes(dump)),
    ...sourceLines(dumpSources(dump)),
    '',
    dump.config ? 'configuration (as the agent last started)' : 'configuration: the agent has not started on this database yet',
  ];
  for (const [key, value] of Object.entries(dump.config ?? {})) {
    out.push(`  ${key.padEnd(26)} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  }
  dump.tasks.forEach((t, i) => {
    const s = flagged[i];
    out.push('');
    out.push(
      `task ${t.arn}  ${t.family}:${t.version}  known ${t.knownStatus}  desired ${t.desiredStatus}  health ${taskHealth(t)}  age ${age(t.createdAt, now)}` +
        (s ? `  ${stuckText(s, now)}` : '') +
        (t.waiting && isWaitingForResources(t) ? `  WaitingForResources: ${t.waiting.message}` : ''),
    );
    out.push(
      table(
        ['container', 'docker id', 'known', 'desired', 'health', 'exit', 'restarts', 'ports', 'reason'],
        t.containers.map((c) => [
          c.definition.name,
          shortId(c.dockerId),
          c.knownStatus,
          c.desiredStatus,
          c.definition.healthCheck ? (c.health ?? 'UNKNOWN') : '-',
          exitText(c.exitCode),
          restartsText(c.restartCount, c.lastExitCode),
          ports(c.portBindings),
          reasonText(c.reason?.code, c.reason?.message),
        ]),
        '  ',
      ),
    );
  });
  out.push(...imageLines(dump.images ?? [], now));
  return out.join('\n');
}

/** Last: the images the agent tracks, least recently used first, as image cleanup considers them. */
function imageLines(images: readonly ImageRecord[], now: number): string[] {
  if (images.length === 0) return [];
  const byUse = [...images].sort((a, b) => a.lastUsedAt - b.lastUsedAt || a.ref.localeCompare(b.ref));
  return [
    '',
    `images       ${images.length} tracked (pulled or used by this agent), least recently used first`,
    table(
      ['image', 'image id', 'last used', 'pulled'],
      byUse.map((i) => [i.ref, shortId(i.imageId?.replace(/^sha256:/, '')), `${age(i.lastUsedAt, now)} ago`, i.pulledAt === undefined ? 'never (found cached)' : `${age(i.pulledAt, now)} ago`]),
      '  ',
    ),
  ];
}

/** Each route's saved cursor: how far behind the feed it is, and what went wrong last. */
function routeLines(routes: readonly DumpRoute[]): string[] {
  if (routes.length === 0) return [];
  return [
    '',
    `routes       ${routes.length}`,
    table(
      ['route', 'cursor', 'lag', 'delivered', 'failures', 'dropped', 'gap events', 'last error'],
      routes.map((r) => [
        r.name,
        String(r.seq),
        String(r.lag),
        String(r.delivered),
        String(r.failures),
        String(r.dropped),
        r.lastGap ? `${r.gapEvents} (last ${r.lastGap.from}-${r.lastGap.to} at ${r.lastGap.at})` : String(r.gapEvents),
        r.lastError ? `${r.lastError.at} ${r.lastError.message}` : '-',
      ]),
      '  ',
    ),
  ];
}

/** Each source's saved set, and what is wrong with it: conflicts (on every source involved) and bad items. */
function sourceLines(sources: readonly SourceStatus[]): string[] {
  if (sources.length === 0) return [];
  const out = ['', `sources      ${sources.length}`, table(
    ['source', 'kind', 'tasks', 'conflicts', 'errors', 'revision'],
    sources.map((s) => [s.name, s.kind, String(s.taskCount), String(s.conflicts.length), String(s.errors.length), s.revision ?? '-']),
    '  ',
  )];
  for (const s of sources) {
    for (const c of s.conflicts) out.push(`  conflict  ${s.name}: ${c.arn} claimed by ${c.claimants.join(', ')}; ${c.owner} keeps it`);
    for (const e of s.errors) out.push(`  error     ${s.name}: ${e.origin}: ${e.message}`);
  }
  return out;
}

/** Right under the summary: rows that cost a task are the first thing an operator needs to see. */
function problemLines(dump: DumpInput): string[] {
  const out: string[] = [];
  const problems = dump.problems ?? [];
  const quarantined = dump.quarantined ?? [];
  if (problems.length > 0) {
    out.push('', `problems     ${problems.length} task(s) cannot be loaded; the agent moves them to the quarantine table at its next start`);
    out.push(table(['arn', 'reason'], problems.map((p) => [p.arn, p.reason]), '  '));
  }
  if (quarantined.length > 0) {
    out.push('', `quarantined  ${quarantined.length} task(s) set aside by the agent; sqlite3 shows their rows: SELECT * FROM quarantine`);
    out.push(table(['arn', 'quarantined at', 'reason'], quarantined.map((q) => [q.arn, q.quarantinedAt, q.reason]), '  '));
  }
  return out;
}

import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../../errors.js';
import { messages, toFieldIssues } from '../parse/issues.js';
import { parseTaskInput, type ParseOptions } from '../parse/parse-task-input.js';
import type { TaskDefinition, TaskState } from '../task.js';
import { acceptedInput, definitionOf } from './accepted-input.js';

/**
 * The export document (README "Export and restore"): an agent's tasks — definitions with their
 * desired status, and the source each came from — under the agent ID their containers carry.
 * `agent state export` writes it; `agent state restore` and `agent task apply -f` read it back.
 */

export const STATE_DOCUMENT_KIND = 'berth/agent-state';
export const STATE_DOCUMENT_VERSION = 1;

export interface ExportedTask {
  /** The source that gave the agent the task (`api`, `manifests`, `etcd`, …). */
  readonly source: string;
  /** Accepted input (short or ECS form) that parses back to the saved definition, desired status included. */
  readonly definition: Record<string, unknown>;
}

export interface StateDocument {
  readonly kind: typeof STATE_DOCUMENT_KIND;
  readonly version: typeof STATE_DOCUMENT_VERSION;
  readonly agentId: string;
  /** ISO-8601; for the reader, nothing depends on it. */
  readonly exportedAt: string;
  readonly tasks: readonly ExportedTask[];
}

/** Where a task came from: the source that owns it; a task accepted before sources existed came from the socket. */
export function sourceOf(task: TaskState): string {
  return task.source ?? 'api';
}

/** Tasks the engine has cleaned up are leaving the state: there is nothing of them to carry over. */
export function exportDocument(agentId: string, tasks: readonly TaskState[], now: number): StateDocument {
  return {
    kind: STATE_DOCUMENT_KIND,
    version: STATE_DOCUMENT_VERSION,
    agentId,
    exportedAt: new Date(now).toISOString(),
    tasks: [...tasks]
      .filter((t) => !t.cleanedUp)
      .sort((a, b) => a.createdAt - b.createdAt || a.arn.localeCompare(b.arn))
      .map((t) => ({ source: sourceOf(t), definition: acceptedInput(definitionOf(t)) })),
  };
}

/** Whether a parsed file is an export document rather than one task: only the document has `kind`. */
export function isStateDocument(doc: unknown): boolean {
  return typeof doc === 'object' && doc !== null && !Array.isArray(doc) && 'kind' in doc;
}

/** Docker names and labels carry the agent ID, so it is held to what they can carry. */
const AGENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SOURCE_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

const envelopeSchema = z.strictObject({
  kind: z.literal(STATE_DOCUMENT_KIND, { error: `must be "${STATE_DOCUMENT_KIND}" (the document \`agent state export\` writes)` }),
  version: z.literal(STATE_DOCUMENT_VERSION, {
    error: (issue) =>
      typeof issue.input === 'number' && issue.input > STATE_DOCUMENT_VERSION
        ? `version ${issue.input} is newer than this agent reads (${STATE_DOCUMENT_VERSION}); restore it with a newer agent`
        : `must be ${STATE_DOCUMENT_VERSION}`,
  }),
  agentId: z.string().regex(AGENT_ID_PATTERN, 'must be 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit'),
  exportedAt: z.string(),
  tasks: z.array(
    z.strictObject({
      source: z.string().regex(SOURCE_PATTERN, 'must be a source name such as api, manifests or etcd'),
      definition: z.record(z.string(), z.unknown()),
    }),
  ),
});

export interface RestorableState {
  readonly agentId: string;
  readonly tasks: ReadonlyArray<{
    readonly source: string;
    readonly definition: TaskDefinition;
    /** The definition as the document wrote it. */
    readonly input: Readonly<Record<string, unknown>>;
  }>;
}

/**
 * Validates a whole document before anything is done with it: every problem of every task is
 * named by its path (`tasks[2].definition.containers[0].image`), with the parser's own messages.
 */
export function parseStateDocument(doc: unknown, options: ParseOptions): RestorableState {
  const envelope = envelopeSchema.safeParse(doc, { error: messages });
  if (!envelope.success) throw new ValidationError(toFieldIssues(envelope.error));
  const issues: FieldIssue[] = [];
  const seen = new Map<string, number>();
  const tasks = envelope.data.tasks.flatMap((entry, i) => {
    const at = `tasks[${i}].definition`;
    try {
      const input = parseTaskInput(entry.definition, options);
      if (input.kind !== 'definition') {
        issues.push({ path: at, message: 'must be a whole task definition, not only a desired status' });
        return [];
      }
      const earlier = seen.get(input.task.arn);
      if (earlier !== undefined) issues.push({ path: `${at}.arn`, message: `task ${input.task.arn} is also tasks[${earlier}]` });
      seen.set(input.task.arn, i);
      return [{ source: entry.source, definition: input.task, input: entry.definition }];
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues.map((issue) => ({ path: issue.path ? `${at}.${issue.path}` : at, message: issue.message })));
      return [];
    }
  });
  if (issues.length > 0) throw new ValidationError(issues);
  return { agentId: envelope.data.agentId, tasks };
}

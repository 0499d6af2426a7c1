import { readFile } from 'node:fs/promises';
import { isStateDocument, parseStateDocument, type RestorableState } from '../api/export/state-document.js';
import { DEFAULT_PARSE_OPTIONS, parseTaskInput, type ParseOptions, type TaskInput } from '../api/schema.js';
import { formatOf, parseTaskText, withDerivedArn } from '../api/task-document.js';
import type { DesiredStatus } from '../api/status.js';
import { ValidationError } from '../errors.js';
import { CliError, EXIT } from './exit-codes.js';

/** What `task apply` sets on top of the file. */
export interface TaskFileOverrides {
  readonly arn?: string;
  readonly desiredStatus?: DesiredStatus;
}

export interface TaskFile {
  /**
   * The document as written, with the overrides and a derived arn set on it: that is what is
   * sent, and the agent applies its own defaults.
   */
  readonly body: unknown;
  readonly input: TaskInput;
  /** Set when the file had no arn and none was given: the arn made from family and revision. */
  readonly derivedArn?: string;
}

/**
 * The agent decides about privileged containers (its --allow-privileged), so the file is not
 * refused for them here; everything else is checked as the agent checks it.
 */
export const LOCAL_CHECK = { ...DEFAULT_PARSE_OPTIONS, allowPrivileged: true };

/** A file `-f` may give: one task, or an export document (`agent state export`) holding many. */
export type ApplyFile =
  | { readonly kind: 'task'; readonly file: TaskFile }
  | { readonly kind: 'state'; readonly tasks: ReadonlyArray<{ readonly arn: string; readonly body: unknown }> };

/**
 * Reads a file for `task apply -f` (`-` for standard input) as JSON or YAML and validates it with
 * the agent's own parser, so a mistake is named by its JSON path before anything is sent. An
 * export document is checked whole, every problem named by its task's index
 * (`tasks[2].definition...`); any other file is one task.
 */
export async function readApplyFile(file: string, stdin: AsyncIterable<Buffer | string>, overrides: TaskFileOverrides = {}): Promise<ApplyFile> {
  const { name, doc } = await readDocument(file, stdin);
  if (!isStateDocument(doc)) return { kind: 'task', file: taskOf(name, doc, overrides) };
  if (overrides.arn !== undefined) throw new CliError(`${name} is an export document of many tasks: --arn names only one`, EXIT.usage);
  const state = readStateDocument(name, doc, LOCAL_CHECK);
  return {
    kind: 'state',
    // The document's input as written is sent, as for one task: the agent applies its own defaults.
    tasks: state.tasks.map((t) => ({
      arn: t.definition.arn,
      body: overrides.desiredStatus === undefined ? t.input : { ...t.input, desiredStatus: overrides.desiredStatus },
    })),
  };
}

/** An export document, validated whole: a CliError lists every bad field by its path. */
export function readStateDocument(name: string, doc: unknown, options: ParseOptions): RestorableState {
  try {
    return parseStateDocument(doc, options);
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new CliError(`${name} is not a valid export document:\n${error.issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`).join('\n')}`, EXIT.usage);
    }
    throw error;
  }
}

/** The file (`-` for standard input) as JSON or YAML. */
export async function readDocument(file: string, stdin: AsyncIterable<Buffer | string>): Promise<{ name: string; doc: unknown }> {
  const name = file === '-' ? 'standard input' : file;
  let text: string;
  try {
    text = file === '-' ? await readAll(stdin) : await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${name}: ${(error as Error).message}`, EXIT.usage);
  }
  return { name, doc: parseDocument(name, text, formatOf(file)) };
}

function taskOf(name: string, doc: unknown, overrides: TaskFileOverrides): TaskFile {
  const { body, derived } = withOverrides(doc, overrides);
  try {
    return { body, input: parseTaskInput(body, LOCAL_CHECK), ...(derived === undefined ? {} : { derivedArn: derived }) };
  } catch (error) {
    if (error instanceof ValidationError) {
      const lines = error.issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`);
      if (error.issues.some((i) => i.path === 'arn')) lines.push('  (--arn sets the arn; without it, one is made from a valid family and revision)');
      throw new CliError(`${name} is not a valid task:\n${lines.join('\n')}`, EXIT.usage);
    }
    throw error;
  }
}

function withOverrides(doc: unknown, overrides: TaskFileOverrides): { body: unknown; derived?: string } {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { body: doc };
  const body: Record<string, unknown> = { ...doc };
  if (overrides.desiredStatus !== undefined) body.desiredStatus = overrides.desiredStatus;
  if (overrides.arn !== undefined) return { body: { ...body, arn: overrides.arn } };
  return withDerivedArn(body);
}

function parseDocument(name: string, text: string, format: 'yaml' | 'either'): unknown {
  const parsed = parseTaskText(name, text, format);
  if (!parsed.ok) throw new CliError(parsed.message, EXIT.usage);
  return parsed.doc;
}

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

import { readFile } from 'node:fs/promises';
import { DEFAULT_PARSE_OPTIONS, parseTaskInput, type TaskInput } from '../api/schema.js';
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
const LOCAL_CHECK = { ...DEFAULT_PARSE_OPTIONS, allowPrivileged: true };

/**
 * Reads a task file (`-` for standard input) as JSON or YAML and validates it with the agent's
 * own parser, so a mistake is named by its JSON path before anything is sent.
 */
export async function readTaskFile(
  file: string,
  stdin: AsyncIterable<Buffer | string>,
  overrides: TaskFileOverrides = {},
): Promise<TaskFile> {
  const name = file === '-' ? 'standard input' : file;
  let text: string;
  try {
    text = file === '-' ? await readAll(stdin) : await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${name}: ${(error as Error).message}`, EXIT.usage);
  }
  const { body, derived } = withOverrides(parseDocument(name, text, formatOf(file)), overrides);
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

import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { parseTaskInput, type TaskInput } from '../api/schema.js';
import { ValidationError } from '../errors.js';
import { CliError, EXIT } from './exit-codes.js';

export interface TaskFile {
  /** The document as written, which is what is sent: the agent applies its own defaults. */
  readonly body: unknown;
  readonly input: TaskInput;
}

/**
 * Reads a task file (`-` for standard input) as JSON or YAML and validates it with the agent's
 * own schema, so a mistake is named by its JSON path before anything is sent.
 */
export async function readTaskFile(file: string, stdin: AsyncIterable<Buffer | string>): Promise<TaskFile> {
  const name = file === '-' ? 'standard input' : file;
  let text: string;
  try {
    text = file === '-' ? await readAll(stdin) : await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${name}: ${(error as Error).message}`, EXIT.usage);
  }
  const body = parseDocument(name, text, /\.ya?ml$/i.test(file) ? 'yaml' : 'either');
  try {
    return { body, input: parseTaskInput(body) };
  } catch (error) {
    if (error instanceof ValidationError) {
      const lines = error.issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`);
      throw new CliError(`${name} is not a valid task:\n${lines.join('\n')}`, EXIT.usage);
    }
    throw error;
  }
}

function parseDocument(name: string, text: string, format: 'yaml' | 'either'): unknown {
  if (format === 'yaml') return yaml(name, text);
  try {
    return JSON.parse(text) as unknown;
  } catch (jsonError) {
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch {
      throw new CliError(`${name} is neither valid JSON nor valid YAML: ${(jsonError as Error).message}`, EXIT.usage);
    }
    // Nearly any text is a YAML scalar; only a mapping means the author wrote YAML on purpose.
    if (typeof doc !== 'object' || doc === null) {
      throw new CliError(`${name} is not valid JSON (${(jsonError as Error).message}) and is not a YAML mapping`, EXIT.usage);
    }
    return doc;
  }
}

function yaml(name: string, text: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    throw new CliError(`${name} is not valid YAML: ${(error as Error).message}`, EXIT.usage);
  }
}

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

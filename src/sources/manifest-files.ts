import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTaskInput, type ParseOptions } from '../api/schema.js';
import { formatOf, parseTaskText, withDerivedArn } from '../api/task-document.js';
import { errorMessage, ValidationError } from '../errors.js';
import type { SourcedTask, SourceItemError } from './task-source.js';

/** The file names a manifest directory's tasks are read from. */
export const MANIFEST_FILE = /^[^.].*\.(json|ya?ml)$/i;

export type FileRead = { readonly ok: true; readonly task: SourcedTask } | { readonly ok: false; readonly message: string };

/**
 * One manifest file as a task: JSON or YAML, either accepted form, with the API's parser and its
 * messages. A file without an arn gets the one made from its family and revision, as `task apply`
 * does. A desired-status-only document is not a task definition, so it is refused.
 */
export async function readManifest(dir: string, file: string, parse: ParseOptions): Promise<FileRead> {
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch (error) {
    return { ok: false, message: `cannot read ${file}: ${errorMessage(error)}` };
  }
  const doc = parseTaskText(file, text, formatOf(file));
  if (!doc.ok) return doc;
  try {
    const input = parseTaskInput(withDerivedArn(doc.doc).body, parse);
    if (input.kind !== 'definition') return { ok: false, message: `${file} only sets a desired status; a manifest must define a task` };
    return { ok: true, task: { definition: input.task, origin: file } };
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, message: error.message };
    throw error;
  }
}

/**
 * The directory's set, from this scan's reads and the last good task of each file: a file that
 * became invalid keeps its last good task (and reports the error); a file that is gone is not in
 * the set. Files are taken in name order, so of two files giving one arn the later one is refused.
 */
export function manifestSet(
  reads: ReadonlyMap<string, FileRead>,
  lastGood: Map<string, SourcedTask>,
): { tasks: SourcedTask[]; errors: SourceItemError[] } {
  const tasks: SourcedTask[] = [];
  const errors: SourceItemError[] = [];
  const byArn = new Map<string, string>();
  for (const file of [...lastGood.keys()]) if (!reads.has(file)) lastGood.delete(file);
  for (const file of [...reads.keys()].sort()) {
    const read = reads.get(file)!;
    if (!read.ok) errors.push({ origin: file, message: read.message });
    const task = read.ok ? read.task : lastGood.get(file);
    if (!task) continue;
    const earlier = byArn.get(task.definition.arn);
    if (earlier !== undefined) {
      errors.push({ origin: file, message: `${file} gives arn ${task.definition.arn}, which ${earlier} already gives; it is ignored` });
      lastGood.delete(file);
      continue;
    }
    byArn.set(task.definition.arn, file);
    if (read.ok) lastGood.set(file, read.task);
    tasks.push(task);
  }
  return { tasks, errors };
}

export async function listManifests(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && MANIFEST_FILE.test(e.name)).map((e) => e.name);
}

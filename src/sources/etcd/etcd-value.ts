import { parse as parseYaml } from 'yaml';
import { derivedArn, parseTaskInput, type ParseOptions } from '../../api/schema.js';
import type { TaskDefinition } from '../../api/task.js';
import { errorMessage } from '../../errors.js';

/**
 * One etcd task key's value → a task definition, or the message naming what is wrong. JSON first,
 * then YAML (a mapping only: nearly any text is a YAML scalar); then the API's own parser, so the
 * messages are the API's. As with task files, a value without `arn` gets the one derived from
 * its family and revision.
 */
export function parseTaskValue(value: string, options: ParseOptions): { task: TaskDefinition } | { error: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(value) as unknown;
  } catch (jsonError) {
    try {
      doc = parseYaml(value);
    } catch {
      return { error: `neither valid JSON nor valid YAML: ${errorMessage(jsonError)}` };
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      return { error: `not valid JSON (${errorMessage(jsonError)}) and not a YAML mapping` };
    }
  }
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc) && !('arn' in doc)) {
    const arn = derivedArn(doc);
    if (arn !== undefined) doc = { ...doc, arn };
  }
  try {
    const input = parseTaskInput(doc, options);
    if (input.kind !== 'definition') return { error: 'a task key holds a whole task definition, not only {arn, desiredStatus}' };
    return { task: input.task };
  } catch (error) {
    return { error: errorMessage(error) };
  }
}

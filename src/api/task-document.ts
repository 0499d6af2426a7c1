import { parse as parseYaml } from 'yaml';
import { derivedArn } from './parse/derive-arn.js';

/*
 * A task document's text (a file's, an etcd value's) as the value the parser takes: JSON or YAML.
 * Shared by the CLI's task files and the manifest directory, so both read the same documents.
 */

export type DocumentText = { readonly ok: true; readonly doc: unknown } | { readonly ok: false; readonly message: string };

/** `yaml`: the name says YAML; `either`: JSON, or else a YAML mapping. `name` is for messages. */
export function parseTaskText(name: string, text: string, format: 'yaml' | 'either'): DocumentText {
  if (format === 'yaml') return yaml(name, text);
  try {
    return { ok: true, doc: JSON.parse(text) as unknown };
  } catch (jsonError) {
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch {
      return { ok: false, message: `${name} is neither valid JSON nor valid YAML: ${(jsonError as Error).message}` };
    }
    // Nearly any text is a YAML scalar; only a mapping means the author wrote YAML on purpose.
    if (typeof doc !== 'object' || doc === null) {
      return { ok: false, message: `${name} is not valid JSON (${(jsonError as Error).message}) and is not a YAML mapping` };
    }
    return { ok: true, doc };
  }
}

/** The format a file name says: `.yaml`/`.yml` is YAML, anything else JSON or YAML. */
export function formatOf(file: string): 'yaml' | 'either' {
  return /\.ya?ml$/i.test(file) ? 'yaml' : 'either';
}

/** A document without an arn gets the one made from its family and revision, as `task apply` does; otherwise it is left alone. */
export function withDerivedArn(doc: unknown): { readonly body: unknown; readonly derived?: string } {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { body: doc };
  const body = doc as Record<string, unknown>;
  if (body.arn !== undefined) return { body };
  const derived = derivedArn(body);
  return derived === undefined ? { body } : { body: { ...body, arn: derived }, derived };
}

function yaml(name: string, text: string): DocumentText {
  try {
    return { ok: true, doc: parseYaml(text) as unknown };
  } catch (error) {
    return { ok: false, message: `${name} is not valid YAML: ${(error as Error).message}` };
  }
}

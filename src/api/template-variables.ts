import type { ContainerDefinition } from './task.js';

/*
 * The syntax of template variables in container environment values (README "Template variables"),
 * after Datadog's autodiscovery: `%%<variable>[_<key>]@<container>%%` is replaced, when the
 * container is created, by a fact about another container of the same task. Only text that opens
 * with `%%` and one of the variable words below is a reference; any other `%%` is literal text,
 * so values such as `50%%` keep meaning what they always meant. A reference that opens like one but
 * does not follow the grammar is refused, never passed through silently.
 */

export const TEMPLATE_VARIABLES = ['hostname', 'host', 'port', 'pid', 'env'] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

/** One reference, as written (`raw` includes the `%%`s). */
export interface TemplateRef {
  readonly raw: string;
  readonly variable: TemplateVariable;
  /** `host_<network>`, `port_<index or name>`, `env_<NAME>`. */
  readonly key?: string;
  readonly container: string;
}

export type TemplatePart = string | TemplateRef;

export type ParsedTemplate =
  | { readonly ok: true; readonly parts: readonly TemplatePart[] }
  | { readonly ok: false; readonly raw: string; readonly message: string };

/** `%%` then a variable word, then what may follow it (longest word first: `hostname` before `host`). */
const OPENING = /%%(hostname|host|port|pid|env)(?=[_@%])/g;
/** Keys: network names, port indexes and names, environment names. Containers: Docker's name rule. */
const BODY = /^(hostname|host|port|pid|env)(?:_([A-Za-z0-9_.-]+))?@([a-zA-Z0-9][a-zA-Z0-9_.-]*)$/;
const KEYED: ReadonlySet<TemplateVariable> = new Set(['env']);
const UNKEYED: ReadonlySet<TemplateVariable> = new Set(['pid', 'hostname']);

/** Whether a value holds anything that could be a reference (the cheap test the engine runs often). */
export function mayHoldTemplates(value: string): boolean {
  return value.includes('%%');
}

/** A value split into literal text and references, or the first reference that breaks the grammar. */
export function parseTemplate(value: string): ParsedTemplate {
  if (!mayHoldTemplates(value)) return { ok: true, parts: [value] };
  const parts: TemplatePart[] = [];
  let from = 0;
  OPENING.lastIndex = 0;
  for (let open = OPENING.exec(value); open !== null; open = OPENING.exec(value)) {
    const start = open.index;
    const close = value.indexOf('%%', start + 2);
    const raw = value.slice(start, close === -1 ? value.length : close + 2);
    if (close === -1) return { ok: false, raw, message: `${raw} is not closed with %%` };
    const ref = parseRef(raw, value.slice(start + 2, close));
    if (typeof ref === 'string') return { ok: false, raw, message: ref };
    if (start > from) parts.push(value.slice(from, start));
    parts.push(ref);
    from = close + 2;
    OPENING.lastIndex = from;
  }
  if (from < value.length) parts.push(value.slice(from));
  return { ok: true, parts };
}

function parseRef(raw: string, body: string): TemplateRef | string {
  const m = BODY.exec(body);
  const word = /^[a-z]+/.exec(body)![0] as TemplateVariable;
  if (!m) {
    if (!body.includes('@')) return `${raw} names no container: write %%${body}@<container>%% (the container of this task it comes from)`;
    return `${raw} is not a template variable: write %%<variable>[_<key>]@<container>%%`;
  }
  const [, variable, key, container] = m as unknown as [string, TemplateVariable, string | undefined, string];
  if (KEYED.has(variable) && key === undefined) return `${raw} needs the name of the variable: %%${word}_<NAME>@${container}%%`;
  if (UNKEYED.has(variable) && key !== undefined) return `${raw}: %%${word}%% takes no key, write %%${word}@${container}%%`;
  return { raw, variable, ...(key !== undefined ? { key } : {}), container };
}

/** Every reference of a container's environment, with the variable it is in; values that break the grammar are left out. */
export function templateRefs(c: Pick<ContainerDefinition, 'environment'>): { readonly name: string; readonly ref: TemplateRef }[] {
  const out: { name: string; ref: TemplateRef }[] = [];
  for (const [name, value] of Object.entries(c.environment)) {
    if (!mayHoldTemplates(value)) continue;
    const parsed = parseTemplate(value);
    if (!parsed.ok) continue;
    for (const part of parsed.parts) if (typeof part !== 'string') out.push({ name, ref: part });
  }
  return out;
}

/** The other containers a container's environment refers to: it waits for each to START. */
export function templateSiblings(c: Pick<ContainerDefinition, 'environment' | 'name'>): string[] {
  return [...new Set(templateRefs(c).map((r) => r.ref.container))].filter((n) => n !== c.name);
}

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatPath, messages } from '../api/parse/issues.js';
import { ConfigError, errorMessage } from '../errors.js';
import type { BackoffPolicy } from '../util/backoff.js';
import { redactedUrl } from './backends/webhook-backend.js';
import { FilterPatternError, parseFilterPattern, type LabelFilter } from './label-filter.js';

/** Every default a route takes when its declaration leaves it out. */
export const ROUTE_DEFAULTS = {
  webhookTimeoutMs: 10_000,
  /** Webhook deliveries in flight at once, each for a different task (a task's records go one by one). */
  webhookConcurrency: 4,
  commandTimeoutMs: 30_000,
  retry: { initialMs: 500, maxMs: 60_000, multiplier: 2, jitter: 0.5 } satisfies BackoffPolicy,
} as const;

export type BackendConfig =
  | { readonly type: 'file'; readonly path: string }
  | {
      readonly type: 'webhook';
      readonly url: string;
      readonly headers: Readonly<Record<string, string>>;
      readonly timeoutMs: number;
      readonly concurrency: number;
    }
  | { readonly type: 'command'; readonly argv: readonly string[]; readonly timeoutMs: number };

/** One route, resolved: what it matches, what it sends, where, and how it retries. */
export interface RouteConfig {
  /** The route's cursor is saved under this name: renaming a route starts it over. */
  readonly name: string;
  readonly filter: LabelFilter;
  /** Also deliver berth's full state-change events (container events of matching containers). */
  readonly fullEvents: boolean;
  readonly backend: BackendConfig;
  readonly retry: BackoffPolicy;
}

const durationMs = z.union([
  z.number().int().min(1),
  z.string().regex(/^\d+(ms|s|m)$/, 'must be a duration like 500ms, 10s or 2m, or a number of milliseconds').transform(toMs),
]);

const filterSchema = z.union([
  z.string(),
  z.strictObject({ labels: z.record(z.string().min(1), z.string()) }),
]);

const backendSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('file'), path: z.string().regex(/^\//, 'must be an absolute path') }),
  z.strictObject({
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name'), z.string()).optional(),
    timeout: durationMs.optional(),
    concurrency: z.number().int().min(1).max(64).optional(),
  }),
  z.strictObject({ type: z.literal('command'), command: z.array(z.string().min(1)).min(1), timeout: durationMs.optional() }),
]);

const routeSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be 1-63 lowercase letters, digits, - or _, starting with a letter or digit'),
  filter: filterSchema.optional(),
  fullEvents: z.boolean().optional(),
  backend: backendSchema,
  retry: z.strictObject({ initial: durationMs.optional(), max: durationMs.optional() }).optional(),
});

const fileSchema = z.strictObject({ routes: z.array(routeSchema).optional() });

/**
 * Reads and validates the agent's config file (`--config`, YAML or JSON). Anything wrong, from an
 * unreadable file to a bad filter pattern, is a ConfigError naming the file and the field, thrown
 * before the agent starts anything.
 */
export function loadConfigFile(path: string): { routes: RouteConfig[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`config file ${path} cannot be read: ${errorMessage(error)}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid YAML or JSON: ${errorMessage(error)}`);
  }
  return parseConfigDocument(path, doc ?? {});
}

export function parseConfigDocument(path: string, doc: unknown): { routes: RouteConfig[] } {
  const parsed = fileSchema.safeParse(doc, { error: messages });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${formatPath(i.path) || '(top level)'}: ${i.message}`);
    throw new ConfigError(`config file ${path} is invalid: ${issues.join('; ')}`);
  }
  const routes = (parsed.data.routes ?? []).map((r, i) => resolveRoute(path, r, i));
  const seen = new Set<string>();
  for (const [i, r] of routes.entries()) {
    if (seen.has(r.name)) throw new ConfigError(`config file ${path} is invalid: routes[${i}].name: duplicate route name "${r.name}"`);
    seen.add(r.name);
  }
  return { routes };
}

function resolveRoute(path: string, r: z.infer<typeof routeSchema>, index: number): RouteConfig {
  let filter: LabelFilter;
  try {
    filter = typeof r.filter === 'object' ? { labels: r.filter.labels } : parseFilterPattern(r.filter ?? '');
  } catch (error) {
    if (!(error instanceof FilterPatternError)) throw error;
    throw new ConfigError(`config file ${path} is invalid: routes[${index}].filter: ${error.message}`);
  }
  const d = ROUTE_DEFAULTS;
  return {
    name: r.name,
    filter,
    fullEvents: r.fullEvents ?? false,
    backend: backendOf(r.backend),
    retry: { ...d.retry, initialMs: r.retry?.initial ?? d.retry.initialMs, maxMs: r.retry?.max ?? d.retry.maxMs },
  };
}

function backendOf(b: z.infer<typeof backendSchema>): BackendConfig {
  switch (b.type) {
    case 'file':
      return b;
    case 'webhook':
      return {
        type: 'webhook',
        url: b.url,
        headers: b.headers ?? {},
        timeoutMs: b.timeout ?? ROUTE_DEFAULTS.webhookTimeoutMs,
        concurrency: b.concurrency ?? ROUTE_DEFAULTS.webhookConcurrency,
      };
    case 'command':
      return { type: 'command', argv: b.command, timeoutMs: b.timeout ?? ROUTE_DEFAULTS.commandTimeoutMs };
  }
}

/** A route as `state dump` and logs show it: header values and URL passwords hold tokens, so they are left out. */
export function describeRoute(route: RouteConfig): Record<string, unknown> {
  const b = route.backend;
  return {
    name: route.name,
    filter: route.filter.labels,
    fullEvents: route.fullEvents,
    backend: b.type === 'webhook' ? { ...b, url: redactedUrl(b.url), headers: Object.keys(b.headers).sort() } : b,
  };
}

function toMs(raw: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(raw)!;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
}

import type { SavedSources } from '../state/saver.js';
import { SourceSets } from './source-sets.js';
import { sourceStatuses, type SourceStatus } from './source-status.js';
import type { SourceItemError } from './task-source.js';

/** Meta key of a source's item errors (a bad manifest file), kept so `state dump` shows them offline. */
export const SOURCE_ERRORS_KEY_PREFIX = 'source-errors/';

/** Names only the agent reads itself (a directory, etcd); every other source is pushed to it. */
export const WATCHED_SOURCE_NAMES: ReadonlySet<string> = new Set(['manifests', 'etcd']);

/**
 * The sources as a saved database shows them (`agent state dump`): each saved set, its conflicts
 * (by the same first-claimant rule, from the saved claim order), revision and last item errors.
 */
export function savedSourceStatuses(saved: SavedSources, meta: Readonly<Record<string, string>>): SourceStatus[] {
  const sets = new SourceSets();
  for (const row of saved.tasks) sets.load(row);
  const errors = new Map<string, SourceItemError[]>();
  for (const [key, value] of Object.entries(meta)) {
    if (!key.startsWith(SOURCE_ERRORS_KEY_PREFIX)) continue;
    try {
      const list = JSON.parse(value) as SourceItemError[];
      if (Array.isArray(list) && list.length > 0) errors.set(key.slice(SOURCE_ERRORS_KEY_PREFIX.length), list);
    } catch {
      errors.set(key.slice(SOURCE_ERRORS_KEY_PREFIX.length), [{ origin: '?', message: `unreadable saved errors: ${value.slice(0, 80)}` }]);
    }
  }
  const names = new Set([...sets.sourceNames(), ...Object.keys(saved.revisions), ...errors.keys()]);
  return sourceStatuses([...names].sort(), {
    kind: (name) => (WATCHED_SOURCE_NAMES.has(name) ? 'watched' : 'pushed'),
    revision: (name) => saved.revisions[name],
    claims: (name) => sets.claimsOf(name),
    owner: (arn) => sets.owner(arn)?.source,
    claimants: (arn) => sets.claimants(arn).map((c) => c.source),
    refused: () => undefined,
    errors: (name) => errors.get(name) ?? [],
  });
}

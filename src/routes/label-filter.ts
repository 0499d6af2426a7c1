/**
 * Beacon's label filter: a container matches when it has every label of the filter with the same
 * value. The empty filter matches every container.
 */
export interface LabelFilter {
  readonly labels: Readonly<Record<string, string>>;
}

export const MATCH_ALL: LabelFilter = { labels: {} };

/** A filter pattern that is not `key=value,key2=value2,...`; the message is the one operators see. */
export class FilterPatternError extends Error {
  constructor(readonly pattern: string) {
    super(`invalid filter pattern: ${pattern}`);
    this.name = 'FilterPatternError';
  }
}

/**
 * Parses beacon's pattern `label1=value1,label2=value2`. Each pair is split at its first `=`, so a
 * value may itself hold `=`; an empty value matches a label set to the empty string. A pair without
 * `=`, or with an empty key, throws FilterPatternError naming the whole pattern.
 */
export function parseFilterPattern(pattern: string): LabelFilter {
  if (pattern.trim() === '') return MATCH_ALL;
  const labels: Record<string, string> = {};
  for (const pair of pattern.split(',')) {
    const at = pair.indexOf('=');
    const key = at < 0 ? '' : pair.slice(0, at).trim();
    if (key === '') throw new FilterPatternError(pattern);
    if (key in labels && labels[key] !== pair.slice(at + 1)) throw new FilterPatternError(pattern);
    labels[key] = pair.slice(at + 1);
  }
  return { labels };
}

export function matchesLabels(filter: LabelFilter, labels: Readonly<Record<string, string>> | undefined): boolean {
  for (const [key, value] of Object.entries(filter.labels)) {
    if (labels?.[key] !== value) return false;
  }
  return true;
}

/** The pattern a filter is written as, for logs and `state dump`. */
export function filterPattern(filter: LabelFilter): string {
  return Object.entries(filter.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

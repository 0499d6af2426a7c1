import { z } from 'zod';

/**
 * How far a route has got, saved with the agent's state (meta `route:<name>`) so delivery resumes
 * after a restart or a SIGKILL where it stopped: every record of an event at or below `seq` was
 * delivered (or, not retryable, dropped). The counters are for all time, across restarts.
 */
export interface RouteProgress {
  readonly seq: number;
  readonly delivered: number;
  readonly failures: number;
  readonly dropped: number;
  /** Events retention pruned before the route delivered them (the hard cap was reached). */
  readonly gapEvents: number;
  readonly lastGap?: { readonly from: number; readonly to: number; readonly at: string };
  readonly lastError?: { readonly message: string; readonly at: string };
}

export const NO_PROGRESS: RouteProgress = { seq: 0, delivered: 0, failures: 0, dropped: 0, gapEvents: 0 };

const count = z.number().int().min(0);
const progressSchema = z.object({
  seq: count,
  delivered: count,
  failures: count,
  dropped: count,
  gapEvents: count,
  lastGap: z.object({ from: count, to: count, at: z.string() }).optional(),
  lastError: z.object({ message: z.string(), at: z.string() }).optional(),
});

const PREFIX = 'route:';

export function progressKey(route: string): string {
  return PREFIX + route;
}

/** The routes' saved progress among the meta keys (what `state dump` reads), by route name. */
export function progressOf(meta: Readonly<Record<string, string>>): Map<string, RouteProgress> {
  const found = new Map<string, RouteProgress>();
  for (const [key, value] of Object.entries(meta)) {
    if (!key.startsWith(PREFIX)) continue;
    const progress = decodeProgress(value);
    if (progress) found.set(key.slice(PREFIX.length), progress);
  }
  return found;
}

/** Undefined for a value that is not a saved progress (a hand-edited or damaged meta row). */
export function decodeProgress(raw: string): RouteProgress | undefined {
  try {
    const parsed = progressSchema.safeParse(JSON.parse(raw));
    return parsed.success ? (parsed.data as RouteProgress) : undefined;
  } catch {
    return undefined;
  }
}

import type { StateChange } from '../api/events.js';
import type { Logger } from '../log/logger.js';
import type { Clock, Random } from '../util/clock.js';
import { deliveryConcurrency, makeBackend } from './backends/make-backend.js';
import type { RouteBackend } from './route-backend.js';
import type { RouteConfig } from './route-config.js';
import { decodeProgress, progressKey } from './route-progress.js';
import { RouteRunner, type DeliveryObserver, type ProgressStore, type RouteFeed, type RouteStatus } from './route-runner.js';

/** What the router needs of the engine: its feed, and the meta rows cursors are saved in. */
export interface RouterEngine {
  eventsAfter(after: number, limit: number): Promise<StateChange[]>;
  lastEventSeq(): number;
  subscribe(listener: (event: StateChange) => void): () => void;
  recordMeta(key: string, value: string): Promise<void>;
}

export interface EventRouterOptions {
  readonly routes: readonly RouteConfig[];
  readonly engine: RouterEngine;
  readonly getMeta: (key: string) => Promise<string | undefined>;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  /** Tests give their own backends; the agent makes them from the config. */
  readonly backendFor?: (route: RouteConfig) => RouteBackend;
  readonly onDelivered?: DeliveryObserver;
}

/**
 * Beacon: every configured route, each with its own runner, cursor and backend, fed from the one
 * durable event feed. Nothing is shared between routes but the feed, so one that is slow or
 * failing never holds up another.
 */
export class EventRouter {
  private readonly runners: RouteRunner[];

  constructor(opts: EventRouterOptions) {
    const feed: RouteFeed = {
      eventsAfter: (after, limit) => opts.engine.eventsAfter(after, limit),
      publishedSeq: () => opts.engine.lastEventSeq(),
      subscribe: (listener) => opts.engine.subscribe(() => listener()),
    };
    const progress: ProgressStore = {
      load: async (route) => {
        const raw = await opts.getMeta(progressKey(route));
        if (raw === undefined) return undefined;
        const decoded = decodeProgress(raw);
        if (!decoded) opts.log.warn('The saved cursor of a route is unreadable; it starts from the oldest kept event', { route });
        return decoded;
      },
      save: (route, p) => opts.engine.recordMeta(progressKey(route), JSON.stringify(p)),
    };
    this.runners = opts.routes.map(
      (route) =>
        new RouteRunner({
          route,
          backend: (opts.backendFor ?? makeBackend)(route),
          feed,
          progress,
          clock: opts.clock,
          random: opts.random,
          log: opts.log,
          concurrency: deliveryConcurrency(route),
          ...(opts.onDelivered ? { onDelivered: opts.onDelivered } : {}),
        }),
    );
  }

  async start(): Promise<void> {
    for (const r of this.runners) await r.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
  }

  statuses(): RouteStatus[] {
    return this.runners.map((r) => r.status());
  }

  /**
   * The lowest cursor of all routes: retention keeps every event above it (up to its hard cap).
   * Undefined without routes.
   */
  lowestCursor(): number | undefined {
    return this.runners.length === 0 ? undefined : Math.min(...this.runners.map((r) => r.cursor()));
  }
}

import { Counter, Gauge, Histogram } from 'prom-client';
import type { RouteStatus } from '../routes/route-runner.js';
import type { AgentMetrics } from './metrics.js';

/** From a local file append to a webhook on another continent, and a backend that keeps timing out. */
const DELIVERY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Each route's metrics, labelled `route`:
 * - `berth_route_lag_events` (published events not yet confirmed), `berth_route_failing` (1 while the last attempt failed)
 * - `berth_route_delivered_total`, `berth_route_failures_total`, `berth_route_dropped_total`, `berth_route_gap_events_total`
 *   (all time, across restarts: they are saved with the route's cursor)
 * - `berth_route_delivery_duration_seconds` (one backend call that delivered)
 * Read from the routes at every scrape, so they never disagree with `state dump`.
 */
export function registerRouteMetrics(metrics: AgentMetrics, source: () => readonly RouteStatus[]): (route: string, ms: number) => void {
  const registers = [metrics.registry];
  const prefix = metrics.prefix;
  // Filled from the routes at each scrape; a route that is gone leaves no series behind.
  const fill = (metric: { reset(): void }, put: (route: string, n: number) => void, value: (s: RouteStatus) => number): void => {
    metric.reset();
    for (const s of source()) put(s.name, value(s));
  };
  const gauge = (name: string, help: string, value: (s: RouteStatus) => number): void => {
    new Gauge({ name: `${prefix}${name}`, help, labelNames: ['route'], registers, collect() { fill(this, (route, n) => this.set({ route }, n), value); } });
  };
  const counter = (name: string, help: string, value: (s: RouteStatus) => number): void => {
    new Counter({ name: `${prefix}${name}`, help, labelNames: ['route'], registers, collect() { fill(this, (route, n) => this.inc({ route }, n), value); } });
  };
  gauge('route_lag_events', 'Published events the route has not yet delivered (or skipped as not matching).', (s) => s.lag);
  gauge('route_failing', '1 while the route’s last delivery attempt failed and it is retrying.', (s) => (s.failingSince ? 1 : 0));
  counter('route_delivered_total', 'Records the route delivered.', (s) => s.delivered);
  counter('route_failures_total', 'Delivery attempts that failed (each retry counts).', (s) => s.failures);
  counter('route_dropped_total', 'Records given up because the backend refused them (not retryable).', (s) => s.dropped);
  counter('route_gap_events_total', 'Events retention pruned (past its hard cap) before the route delivered them.', (s) => s.gapEvents);
  const seconds = new Histogram({
    name: `${prefix}route_delivery_duration_seconds`,
    help: 'How long the backend call that delivered a record took.',
    labelNames: ['route'],
    buckets: DELIVERY_BUCKETS,
    registers,
  });
  return (route, ms) => seconds.observe({ route }, ms / 1000);
}

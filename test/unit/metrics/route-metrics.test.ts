import { describe, expect, it } from 'vitest';
import { AgentMetrics } from '../../../src/metrics/metrics.js';
import { registerRouteMetrics } from '../../../src/metrics/route-metrics.js';
import type { RouteStatus } from '../../../src/routes/route-runner.js';

const status = (name: string, extra: Partial<RouteStatus> = {}): RouteStatus => ({
  name,
  backend: 'memory',
  seq: 10,
  lag: 0,
  delivered: 0,
  failures: 0,
  dropped: 0,
  gapEvents: 0,
  gapThisRun: false,
  ...extra,
});

describe('route metrics', () => {
  it('read every route at each scrape, so a route that goes leaves no series behind', async () => {
    const metrics = new AgentMetrics({ defaultMetrics: false });
    let routes: RouteStatus[] = [
      status('web', { lag: 3, delivered: 7, failures: 2, failingSince: '2026-12-02T00:00:00.000Z' }),
      status('audit', { delivered: 9, dropped: 1, gapEvents: 4 }),
    ];
    const delivered = registerRouteMetrics(metrics, () => routes);
    delivered('web', 12);
    const body = (await metrics.render()).body;
    expect(body).toContain('berth_route_lag_events{route="web"} 3');
    expect(body).toContain('berth_route_failing{route="web"} 1');
    expect(body).toContain('berth_route_failing{route="audit"} 0');
    expect(body).toContain('berth_route_delivered_total{route="audit"} 9');
    expect(body).toContain('berth_route_failures_total{route="web"} 2');
    expect(body).toContain('berth_route_dropped_total{route="audit"} 1');
    expect(body).toContain('berth_route_gap_events_total{route="audit"} 4');
    expect(body).toContain('berth_route_delivery_duration_seconds_count{route="web"} 1');
    routes = [status('web')];
    const after = (await metrics.render()).body;
    expect(after).not.toContain('route="audit"');
    expect(after).toContain('berth_route_delivered_total{route="web"} 0');
  });
});

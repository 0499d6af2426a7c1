import { Counter, Gauge } from 'prom-client';
import type { AgentMetrics } from './metrics.js';

/**
 * The fleet's metrics (README "Fleet on etcd"), registered only when etcd endpoints are configured:
 * - `berth_etcd_up` (gauge): 1 while etcd answered the agent's last call, 0 during an outage
 * - `berth_etcd_status_writes_total` (counter): task status writes (puts and deletes) etcd took
 * - `berth_etcd_status_pending` (gauge): task statuses waiting for their interval or for etcd
 * Returns the function to count one write.
 */
export function registerEtcdMetrics(metrics: AgentMetrics, source: { up(): boolean; pending(): number }): () => void {
  const registers = [metrics.registry];
  const prefix = metrics.prefix;
  new Gauge({ name: `${prefix}etcd_up`, help: '1 while etcd answered the last call, 0 while it is unreachable.', registers, collect() { this.set(source.up() ? 1 : 0); } });
  new Gauge({ name: `${prefix}etcd_status_pending`, help: 'Task statuses not yet written to etcd.', registers, collect() { this.set(source.pending()); } });
  const writes = new Counter({ name: `${prefix}etcd_status_writes_total`, help: 'Task status writes (puts and deletes) etcd took.', registers });
  return () => writes.inc();
}

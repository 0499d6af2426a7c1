import { errorMessage } from '../errors.js';
import type { Clock } from '../util/clock.js';

/**
 * Whether etcd answered the agent's last call, as every fleet part (source, status writer,
 * liveness) saw it. Health's `etcd` check and the `berth_etcd_up` gauge read it.
 */
export class EtcdLink {
  private downSince: number | undefined;
  private lastError: string | undefined;

  constructor(private readonly clock: Clock) {}

  ok(): void {
    this.downSince = undefined;
    this.lastError = undefined;
  }

  failed(error: unknown): void {
    this.downSince ??= this.clock.now();
    this.lastError = errorMessage(error);
  }

  up(): boolean {
    return this.downSince === undefined;
  }

  /** Health's `etcd` check: degraded, never unhealthy (the agent runs what it has without etcd). */
  check(): { ok: boolean; detail: string } {
    if (this.downSince === undefined) return { ok: true, detail: 'reachable' };
    const seconds = Math.round((this.clock.now() - this.downSince) / 1000);
    return { ok: false, detail: `unreachable for ${seconds} s: ${this.lastError ?? 'unknown error'}` };
  }
}

import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { EtcdClient } from './etcd-client.js';
import type { EtcdLink } from './etcd-link.js';
import { aliveKey } from './keys.js';

export interface AliveOptions {
  readonly client: EtcdClient;
  readonly prefix: string;
  readonly host: string;
  readonly clock: Clock;
  readonly ttlSeconds: number;
  /** What the key says: who keeps it. */
  readonly value: { readonly agentId: string; readonly version: string; readonly startedAt: string };
  readonly log: Logger;
  readonly link?: EtcdLink;
}

/**
 * Keeps `<prefix>/hosts/<host>/alive` under a lease of `ttlSeconds`, renewed every third of it, so
 * the key vanishes within the TTL of the agent dying and a fleet view sees the host as dead. A lease
 * lost (etcd unreachable for longer than the TTL, the lease revoked) is granted again and the key
 * put again. A clean stop revokes the lease: the host is gone at once.
 */
export class Alive {
  private lease: string | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private ticking: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly opts: AliveOptions) {
    this.log = opts.log.child({ component: 'etcd-alive', host: opts.host });
  }

  /** First attempt now; an etcd that does not answer is retried on the renewal schedule. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.opts.clock.clearTimeout(this.timer);
    await this.ticking;
    if (this.lease === undefined) return;
    try {
      await this.opts.client.revokeLease(this.lease);
    } catch (error) {
      // The lease runs out by itself within its TTL.
      this.log.warn('Could not revoke the alive lease; it expires by itself', { error: errorMessage(error) });
    }
    this.lease = undefined;
  }

  /** The lease id being kept, if one. */
  currentLease(): string | undefined {
    return this.lease;
  }

  private tick(): Promise<void> {
    this.ticking = this.renew().finally(() => {
      if (this.stopped) return;
      this.timer = this.opts.clock.setTimeout(() => void this.tick(), Math.max(500, (this.opts.ttlSeconds * 1000) / 3));
    });
    return this.ticking;
  }

  private async renew(): Promise<void> {
    const { client } = this.opts;
    try {
      if (this.lease !== undefined && (await client.keepAlive(this.lease)) > 0) {
        this.opts.link?.ok();
        return;
      }
      if (this.lease !== undefined) this.log.warn('Alive lease lost; granting a new one', { lease: this.lease });
      this.lease = undefined;
      const lease = await client.grantLease(this.opts.ttlSeconds);
      await client.put(aliveKey(this.opts.prefix, this.opts.host), JSON.stringify(this.opts.value), { lease });
      this.lease = lease;
      this.opts.link?.ok();
      this.log.info('Alive key written', { key: aliveKey(this.opts.prefix, this.opts.host), lease, ttlSeconds: this.opts.ttlSeconds });
    } catch (error) {
      this.opts.link?.failed(error);
      this.log.warn('Keeping the alive key in etcd failed; retrying', { error: errorMessage(error) });
    }
  }
}

import type { ImageClient, PullProgress } from '../docker/docker-client.js';
import { normalizeImageReference } from '../docker/image-reference.js';
import type { CredentialsFor } from '../docker/registry-auth/registry-credentials.js';
import { PullCancelledError, PullTimeoutError, errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { backoffDelay, type BackoffPolicy } from '../util/backoff.js';
import { sleep, systemClock, systemRandom, type Clock, type Random, type TimerHandle } from '../util/clock.js';
import { isRetryablePullError } from './images/pull-retryable.js';

/** Retries and timeouts of each Docker pull (README "Image pulls"; the agent's come from its config). */
export interface PullRetryPolicy {
  /** Attempts after the first one fails with a retryable error (isRetryablePullError). */
  readonly retries: number;
  readonly backoff: BackoffPolicy;
  /** An attempt with no progress line for this long is aborted; 0: no inactivity timeout. */
  readonly inactivityTimeoutMs: number;
  /** An attempt not done this long after it got its slot is aborted; 0: no overall timeout. */
  readonly timeoutMs: number;
}

export interface ImagePullerOptions {
  /** The registry credentials each Docker pull carries; absent: anonymous pulls. */
  readonly auth?: CredentialsFor;
  /** Absent: one attempt, no timeouts. */
  readonly policy?: PullRetryPolicy;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly log?: Logger;
}

export interface PullRequest {
  readonly onProgress?: (progress: PullProgress) => void;
  /** Told `true` when the pull this request shares waits for a free slot, `false` once it has one. */
  readonly onWaiting?: (waiting: boolean) => void;
  /** Aborting releases this request at once; the Docker pull goes on while another request shares it. */
  readonly signal?: AbortSignal;
  /** Told when an attempt failed and the shared pull will try again after `delayMs`. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

interface Flight {
  readonly waiters: Set<PullRequest>;
  readonly controller: AbortController;
  waiting: boolean;
  done: Promise<void>;
}

/**
 * The one place pulls are decided. Requests for the same image (as Docker names it) share one
 * Docker pull and all get its result, success or the same error; at most `maxConcurrent` Docker
 * pulls run at once, the others wait for a slot in arrival order. A shared pull is aborted only
 * when every request on it has been cancelled. A pull that has finished is not remembered: the
 * next request for the image pulls again.
 *
 * Each attempt is watched by the policy's timeouts (the injected clock's timers): no progress line
 * for the inactivity timeout, or not done within the overall timeout, aborts the Docker pull with
 * PullTimeoutError. A retryable failure is tried again after a capped, jittered exponential
 * backoff, waited out of the slot (another image's pull may use it meanwhile) and then queued for
 * a slot again like a new pull. Requests sharing the pull keep waiting through retries, and each
 * can still leave at once.
 */
export class ImagePuller {
  private readonly flights = new Map<string, Flight>();
  private readonly slots: Slots;

  constructor(
    private readonly images: ImageClient,
    maxConcurrent: number,
    private readonly options: ImagePullerOptions = {},
  ) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new RangeError(`max concurrent pulls must be a whole number of at least 1, got ${maxConcurrent}`);
    }
    this.slots = new Slots(maxConcurrent);
  }

  pull(image: string, request: PullRequest = {}): Promise<void> {
    const { signal } = request;
    if (signal?.aborted) return Promise.reject(new PullCancelledError(image));
    const key = normalizeImageReference(image);
    const flight = this.flights.get(key) ?? this.launch(key, image);
    flight.waiters.add(request);
    if (flight.waiting) request.onWaiting?.(true);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.leave(key, flight, request);
        reject(new PullCancelledError(image));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      flight.done
        .then(resolve, reject)
        .finally(() => {
          signal?.removeEventListener('abort', onAbort);
          flight.waiters.delete(request);
        });
    });
  }

  /** Whether a Docker pull of this image (however spelled) is in flight or waiting for a slot; image cleanup leaves it alone. */
  isPulling(image: string): boolean {
    return this.flights.has(normalizeImageReference(image));
  }

  private launch(key: string, image: string): Flight {
    const flight: Flight = { waiters: new Set(), controller: new AbortController(), waiting: false, done: Promise.resolve() };
    flight.done = this.fly(image, flight).finally(() => {
      if (this.flights.get(key) === flight) this.flights.delete(key);
    });
    // A flight every request has left is aborted with nobody to hear its result.
    flight.done.catch(() => {});
    this.flights.set(key, flight);
    return flight;
  }

  private async fly(image: string, flight: Flight): Promise<void> {
    const { signal } = flight.controller;
    const policy = this.options.policy;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.attempt(image, flight);
        return;
      } catch (error) {
        if (signal.aborted || !isRetryablePullError(error) || attempt >= (policy?.retries ?? 0)) throw error;
        const delayMs = backoffDelay(policy!.backoff, attempt, this.options.random ?? systemRandom);
        this.options.log?.warn('Pull attempt failed; retrying', { image, attempt: attempt + 1, delayMs, error: errorMessage(error) });
        for (const w of flight.waiters) w.onRetry?.(error, attempt + 1, delayMs);
        await sleep(this.options.clock ?? systemClock, delayMs, signal).catch(() => {
          throw new PullCancelledError(image);
        });
      }
    }
  }

  /** One Docker pull, in a slot, under the policy's timeouts. */
  private async attempt(image: string, flight: Flight): Promise<void> {
    const { signal } = flight.controller;
    await this.slots.acquire(signal, image, () => this.setWaiting(flight, true));
    const timeouts = new AttemptTimeouts(image, signal, this.options.policy, this.options.clock ?? systemClock);
    try {
      if (flight.waiting) this.setWaiting(flight, false);
      // Asked for each Docker pull, not kept: a helper's token may have changed since the last one.
      const auth = await this.options.auth?.(image);
      timeouts.start();
      await this.images.pullImage(image, {
        signal: timeouts.signal,
        ...(auth ? { auth } : {}),
        onProgress: (p) => {
          timeouts.progressed();
          for (const w of flight.waiters) w.onProgress?.(p);
        },
      });
    } catch (error) {
      throw timeouts.fired ?? error;
    } finally {
      timeouts.stop();
      this.slots.release();
    }
  }

  private setWaiting(flight: Flight, waiting: boolean): void {
    flight.waiting = waiting;
    for (const w of flight.waiters) w.onWaiting?.(waiting);
  }

  /** A request gone: the last one to go takes the shared pull with it, and a new request starts afresh. */
  private leave(key: string, flight: Flight, request: PullRequest): void {
    flight.waiters.delete(request);
    if (flight.waiters.size > 0) return;
    if (this.flights.get(key) === flight) this.flights.delete(key);
    flight.controller.abort();
  }
}

/**
 * The timers of one pull attempt. Its signal aborts when the flight does or when a timeout fires;
 * `fired` then says which timeout it was, so the attempt fails with that rather than a cancel.
 */
class AttemptTimeouts {
  private readonly controller = new AbortController();
  private inactivity: TimerHandle | undefined;
  private overall: TimerHandle | undefined;
  private readonly onFlightAbort = (): void => this.controller.abort();
  fired: PullTimeoutError | undefined;

  constructor(
    private readonly image: string,
    private readonly flight: AbortSignal,
    private readonly policy: PullRetryPolicy | undefined,
    private readonly clock: Clock,
  ) {
    flight.addEventListener('abort', this.onFlightAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  start(): void {
    const overallMs = this.policy?.timeoutMs ?? 0;
    if (overallMs > 0) this.overall = this.clock.setTimeout(() => this.fire('overall', overallMs), overallMs);
    this.progressed();
  }

  /** A progress line came: the inactivity timeout counts from now. */
  progressed(): void {
    const inactivityMs = this.policy?.inactivityTimeoutMs ?? 0;
    if (inactivityMs <= 0 || this.fired) return;
    if (this.inactivity !== undefined) this.clock.clearTimeout(this.inactivity);
    this.inactivity = this.clock.setTimeout(() => this.fire('inactivity', inactivityMs), inactivityMs);
  }

  stop(): void {
    if (this.inactivity !== undefined) this.clock.clearTimeout(this.inactivity);
    if (this.overall !== undefined) this.clock.clearTimeout(this.overall);
    this.flight.removeEventListener('abort', this.onFlightAbort);
  }

  private fire(kind: 'inactivity' | 'overall', ms: number): void {
    if (this.fired || this.controller.signal.aborted) return;
    this.fired = new PullTimeoutError(this.image, kind, ms);
    this.controller.abort();
  }
}

/** A counting semaphore whose waiters are served in arrival order and can give up their place. */
class Slots {
  private free: number;
  private readonly queue: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  /** `onQueued` is called only if no slot is free right away. */
  acquire(signal: AbortSignal, image: string, onQueued: () => void): Promise<void> {
    if (signal.aborted) return Promise.reject(new PullCancelledError(image));
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.queue.splice(this.queue.indexOf(grant), 1);
        reject(new PullCancelledError(image));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(grant);
      onQueued();
    });
  }

  release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.free += 1;
  }
}

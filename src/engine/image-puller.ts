import type { ImageClient, PullProgress } from '../docker/docker-client.js';
import { normalizeImageReference } from '../docker/image-reference.js';
import type { CredentialsFor } from '../docker/registry-auth/registry-credentials.js';
import { PullCancelledError } from '../errors.js';

export interface PullRequest {
  readonly onProgress?: (progress: PullProgress) => void;
  /** Told `true` when the pull this request shares waits for a free slot, `false` once it has one. */
  readonly onWaiting?: (waiting: boolean) => void;
  /** Aborting releases this request at once; the Docker pull goes on while another request shares it. */
  readonly signal?: AbortSignal;
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
 */
export class ImagePuller {
  private readonly flights = new Map<string, Flight>();
  private readonly slots: Slots;

  constructor(
    private readonly images: ImageClient,
    maxConcurrent: number,
    /** The registry credentials each Docker pull carries; absent: anonymous pulls. */
    private readonly options: { readonly auth?: CredentialsFor } = {},
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
    await this.slots.acquire(signal, image, () => this.setWaiting(flight, true));
    try {
      if (flight.waiting) this.setWaiting(flight, false);
      // Asked for each Docker pull, not kept: a helper's token may have changed since the last one.
      const auth = await this.options.auth?.(image);
      await this.images.pullImage(image, {
        signal,
        ...(auth ? { auth } : {}),
        onProgress: (p) => {
          for (const w of flight.waiters) w.onProgress?.(p);
        },
      });
    } finally {
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

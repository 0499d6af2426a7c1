import type { StateChange } from '../api/events.js';
import type { Saver, StateCommit } from '../state/saver.js';
import type { MonotonicClock } from './instrumented-docker.js';
import type { AgentMetrics } from './metrics.js';

const monotonic: MonotonicClock = { now: () => performance.now() };

/**
 * A Saver whose `commit` is timed (`observeDbWrite`, failed commits included), whose failed
 * commits are counted (`dbWriteError`), and whose saved events are counted (`eventsWritten`).
 * Results and errors are `inner`'s own, unchanged.
 *
 * Every other property — including methods the Saver interface does not have yet — is forwarded
 * to `inner`, so a saver that grows (say `pruneEvents`) needs no change here. A Proxy does that
 * where spreading cannot: class methods live on the prototype, not on the instance. Methods are
 * bound to `inner` because savers keep `#private` state, which a Proxy as `this` cannot reach.
 */
export function instrumentSaver(inner: Saver, metrics: AgentMetrics, clock: MonotonicClock = monotonic): Saver {
  const commit = async (change: StateCommit): Promise<StateChange[]> => {
    const started = clock.now();
    try {
      const events = await inner.commit(change);
      metrics.eventsWritten(events.length);
      return events;
    } catch (err) {
      metrics.dbWriteError();
      throw err;
    } finally {
      metrics.observeDbWrite(Math.max(0, clock.now() - started) / 1000);
    }
  };

  // One bound function per method, so `saver.close === saver.close` holds as it does for the inner saver.
  const bound = new Map<PropertyKey, { original: unknown; fn: unknown }>();

  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'commit') return commit;
      // `target` as receiver: getters, too, must run against the real object and its private fields.
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const cached = bound.get(prop);
      if (cached?.original === value) return cached.fn;
      const fn = (value as (...args: unknown[]) => unknown).bind(target);
      bound.set(prop, { original: value, fn });
      return fn;
    },
  });
}

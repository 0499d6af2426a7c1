import { vi } from 'vitest';
import type { StateChange } from '../../src/api/events.js';
import type { TaskState } from '../../src/api/task.js';
import { FakeDocker } from '../../src/docker/fake-docker.js';
import { TaskEngine, type PullSettings, type TaskEngineOptions } from '../../src/engine/task-engine.js';
import { silentLogger } from '../../src/log/logger.js';
import { MemorySaver } from '../../src/state/memory-saver.js';
import type { Saver } from '../../src/state/saver.js';
import { systemClock } from '../../src/util/clock.js';
import { AGENT_ID, IMAGE } from './fixtures.js';

export { AGENT_ID } from './fixtures.js';

/** The agent's pull settings with fast backoffs. */
export const TEST_PULLS: PullSettings = {
  behavior: 'default',
  retries: 2,
  backoff: { initialMs: 5, maxMs: 20, multiplier: 2, jitter: 0 },
  inactivityTimeoutMs: 60_000,
  timeoutMs: 0,
};

/** An engine on the fake Docker with fast backoffs; every part can be swapped. */
export function makeEngine(overrides: Partial<TaskEngineOptions> = {}): {
  engine: TaskEngine;
  docker: FakeDocker;
  saver: Saver;
  events: StateChange[];
} {
  const docker = (overrides.docker as FakeDocker | undefined) ?? new FakeDocker({ images: [IMAGE] });
  const saver = overrides.saver ?? new MemorySaver();
  const engine = new TaskEngine({
    docker,
    saver,
    agentId: AGENT_ID,
    clock: systemClock,
    random: () => 0.5,
    log: silentLogger(),
    concurrency: 8,
    maxConcurrentPulls: 2,
    pulls: TEST_PULLS,
    cleanupWaitMs: 60 * 60_000,
    retry: { backoff: { initialMs: 5, maxMs: 20, multiplier: 2, jitter: 0 }, maxRetries: 2 },
    eventStreamBackoff: { initialMs: 5, maxMs: 20, multiplier: 2, jitter: 0 },
    ...overrides,
  });
  const events: StateChange[] = [];
  engine.subscribe((e) => events.push(e));
  return { engine, docker, saver, events };
}

/** Resolves once `predicate` holds for the task, checking after every saved change; fails after `ms`. */
export function waitForTask(engine: TaskEngine, arn: string, predicate: (t: TaskState) => boolean, ms = 5_000): Promise<TaskState> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const t = engine.getTask(arn);
      if (t && predicate(t)) {
        cleanup();
        resolve(t);
        return true;
      }
      return false;
    };
    const unsubscribe = engine.subscribe(() => void check());
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`task ${arn} did not reach the expected state within ${ms} ms; it is ${JSON.stringify(engine.getTask(arn), null, 1)}`));
    }, ms);
    const cleanup = (): void => {
      unsubscribe();
      clearTimeout(timer);
    };
    check();
  });
}

export const running = (t: TaskState): boolean => t.knownStatus === 'RUNNING';
export const stopped = (t: TaskState): boolean => t.knownStatus === 'STOPPED';

/**
 * A `makeEngine` whose engines are all closed (and fake timers undone) after each test of the
 * file that calls it: `const engineFor = trackedEngines(afterEach)`.
 */
export function trackedEngines(afterEachHook: (fn: () => Promise<void>) => void): typeof makeEngine {
  const engines: TaskEngine[] = [];
  afterEachHook(async () => {
    vi.useRealTimers();
    await Promise.all(engines.splice(0).map((e) => e.close()));
  });
  return (...args) => {
    const made = makeEngine(...args);
    engines.push(made.engine);
    return made;
  };
}

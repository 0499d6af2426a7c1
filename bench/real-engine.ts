import { DEFAULTS, pullSettings } from '../src/config/config.js';
import type { DockerClient } from '../src/docker/docker-client.js';
import { DockerodeClient } from '../src/docker/dockerode-client.js';
import { TaskEngine, type TaskEngineOptions } from '../src/engine/task-engine.js';
import { silentLogger } from '../src/log/logger.js';
import type { Saver } from '../src/state/saver.js';
import { systemClock, systemRandom } from '../src/util/clock.js';

/** The local Docker socket, with the timeouts the real-Docker benchmarks use. */
export function localDocker(): DockerClient {
  return new DockerodeClient({ socketPath: '/var/run/docker.sock', timeoutMs: 60_000, pullTimeoutMs: 600_000 });
}

/** A task engine with the agent's defaults, as the real-Docker benchmarks drive it (started by the caller). */
export function benchEngine(parts: { docker: DockerClient; saver: Saver; agentId: string } & Partial<TaskEngineOptions>): TaskEngine {
  return new TaskEngine({
    clock: systemClock,
    random: systemRandom,
    log: silentLogger(),
    concurrency: DEFAULTS.reconcileConcurrency,
    maxConcurrentPulls: DEFAULTS.maxConcurrentPulls,
    pulls: pullSettings(DEFAULTS),
    cleanupWaitMs: DEFAULTS.taskCleanupWaitMs,
    retry: { backoff: DEFAULTS.actionRetryBackoff, maxRetries: DEFAULTS.actionMaxRetries },
    eventStreamBackoff: DEFAULTS.eventStreamBackoff,
    ...parts,
  });
}

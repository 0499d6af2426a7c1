import { afterEach, describe, expect, it } from 'vitest';
import { DockerApiError, PortConflictError } from '../../../src/errors.js';
import type { FakeDocker } from '../../../src/docker/fake-docker.js';
import { taskDef } from '../../support/fixtures.js';
import { stopped, trackedEngines, waitForTask } from '../../support/engine-harness.js';

/*
 * A start that fails for good used to be retried forever: after each failed start the container was
 * re-read, and the successful inspect cleared the failure record, so the attempt count never rose
 * and the backoff never grew.
 */

const engineFor = trackedEngines(afterEach);
const ARN = 'arn:test:task/start-failures';
const starts = (docker: FakeDocker): number => docker.calls.filter((c) => c.op === 'start').length;

describe('a start that keeps failing', () => {
  it('uses up its retry budget across the re-reads between attempts, then stops the container with StartFailed', async () => {
    const { engine, docker } = engineFor();
    for (let i = 0; i < 50; i++) docker.failNext('start', new DockerApiError('start', 500, 'driver failed'));
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    const t = await waitForTask(engine, ARN, stopped);
    // maxRetries 2 in the harness: the first try and two retries.
    expect(starts(docker)).toBe(3);
    expect(t.containers[0]!.reason).toEqual({ code: 'StartFailed', message: 'docker start failed (500): driver failed' });
  });

  it('grows its backoff between attempts instead of retrying at the first delay', async () => {
    const { engine, docker } = engineFor({ retry: { backoff: { initialMs: 20, maxMs: 1_000, multiplier: 4, jitter: 0 }, maxRetries: 2 } });
    for (let i = 0; i < 50; i++) docker.failNext('start', new DockerApiError('start', 500, 'driver failed'));
    const at: number[] = [];
    const start = docker.startContainer.bind(docker);
    docker.startContainer = (id) => {
      at.push(performance.now());
      return start(id);
    };
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    await waitForTask(engine, ARN, stopped);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    // 20 ms, then 80 ms: the second wait is at least three times the first.
    expect(gaps).toHaveLength(2);
    expect(gaps[1]!).toBeGreaterThanOrEqual(3 * 20);
    expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
  });

  it('a host port already allocated is not retried: the container stops at once with PortConflict naming the port', async () => {
    const { engine, docker } = engineFor();
    docker.failNext(
      'start',
      new PortConflictError('start', '127.0.0.1:18080/tcp', 'Bind for 127.0.0.1:18080 failed: port is already allocated'),
    );
    await engine.start();
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    const t = await waitForTask(engine, ARN, stopped);
    expect(starts(docker)).toBe(1);
    expect(t.containers[0]!.reason?.code).toBe('PortConflict');
    expect(t.containers[0]!.reason?.message).toContain('127.0.0.1:18080');
  });
});

import { describe, it, type TestContext } from 'vitest';
import { runCli } from '../../support/agent-process.js';
import { TEST_IMAGE } from '../global-setup.js';
import { container, dockerEvents, fileAgent, inspect, ms } from './support.js';

/*
 * Issue 8 §2-3 and the stop-deadline bug of §6, on real Docker, in the ECS form: what the
 * NNN-ecsagent-* definitions do not already show (ecsagent-taskdefs.test.ts covers START,
 * COMPLETE, SUCCESS and HEALTHY dependencies, startTimeout and per-container stopTimeout).
 */

const agent = fileAgent('deps');

/** A shell that ends `after` seconds after SIGTERM: a trapped signal ends `wait` at once, so the trap runs on arrival. */
const endsAfterTerm = (after: number): string[] => ['sh', '-c', `trap 'sleep ${after}; exit 0' TERM; sleep 3600 & wait`];

function post(ctx: TestContext, label: string, def: Record<string, unknown>): Promise<string> {
  return agent().postFor(ctx, label, def);
}

describe.concurrent('dependencies, health and stops, on real Docker', () => {
  it('a SUCCESS dependency that exits non-zero stops its dependent uncreated, DependencyFailed naming it, and the task with it', async (ctx) => {
    const arn = await post(ctx, 'success-failed', {
      containerDefinitions: [
        { name: 'app', image: TEST_IMAGE, command: ['sleep', '600'], stopTimeout: 1, dependsOn: [{ containerName: 'migrate', condition: 'SUCCESS' }] },
        { name: 'migrate', image: TEST_IMAGE, essential: false, command: ['sh', '-c', 'exit 3'] },
      ],
    });
    const t = await agent().waitStopped(arn);
    ctx.expect(container(t, 'migrate').exitCode).toBe(3);
    const app = container(t, 'app');
    ctx.expect(app).toMatchObject({ knownStatus: 'STOPPED', reason: 'DependencyFailed' });
    ctx.expect(app.reasonMessage).toContain('migrate');
    ctx.expect(app.dockerId).toBeUndefined();
    const stopped = (await agent().events(arn)).find((e) => e.type === 'task' && e.status === 'STOPPED');
    ctx.expect(stopped).toMatchObject({ reason: 'EssentialContainerExited' });
  });

  it('shutdown runs the START chain backwards, each container with its own stopTimeout; a container with no edge stops alongside', async (ctx) => {
    const arn = await post(ctx, 'shutdown-order', {
      containerDefinitions: [
        // As PID 1 without a trap the shell ignores SIGTERM: its own 1 s pass, then it is killed.
        { name: 'db', image: TEST_IMAGE, command: ['sh', '-c', 'while true; do sleep 1; done'], stopTimeout: 1 },
        { name: 'app', image: TEST_IMAGE, command: endsAfterTerm(2), stopTimeout: 10, dependsOn: [{ containerName: 'db', condition: 'START' }] },
        { name: 'web', image: TEST_IMAGE, command: endsAfterTerm(2), stopTimeout: 10, dependsOn: [{ containerName: 'app', condition: 'START' }] },
        { name: 'side', image: TEST_IMAGE, command: endsAfterTerm(2), stopTimeout: 10 },
      ],
    });
    const up = await agent().waitFor(arn, (t) => t.knownStatus === 'RUNNING');
    ctx.expect(ms(container(up, 'app').startedAt)).toBeGreaterThanOrEqual(ms(container(up, 'db').startedAt));
    ctx.expect(ms(container(up, 'web').startedAt)).toBeGreaterThanOrEqual(ms(container(up, 'app').startedAt));
    await agent().stopTask(arn);
    const t = await agent().waitStopped(arn);
    const end = (name: string): number => ms(container(t, name).finishedAt);
    ctx.expect(t.containers.map((c) => [c.name, c.exitCode, c.reason])).toEqual([
      ['db', 137, 'TaskStopRequested'],
      ['app', 0, 'TaskStopRequested'],
      ['web', 0, 'TaskStopRequested'],
      ['side', 0, 'TaskStopRequested'],
    ]);
    // Each stop begins once its dependents have stopped: app's 2 s trap after web's, db's 1 s after app.
    ctx.expect(end('app') - end('web')).toBeGreaterThanOrEqual(1_900);
    ctx.expect(end('db') - end('app')).toBeGreaterThanOrEqual(900);
    // side waits for nothing: it stops with web (after web, its trap's 2 s would put it 2 s later).
    ctx.expect(Math.abs(end('side') - end('web'))).toBeLessThan(1_500);
    ctx.expect(end('side')).toBeLessThan(end('app'));
  });

  it('a passing health check: HEALTHY on the container, the task, the feed and the state dump', async (ctx) => {
    const arn = await post(ctx, 'healthy', {
      containerDefinitions: [
        { name: 'web', image: TEST_IMAGE, command: ['sleep', '600'], stopTimeout: 1, healthCheck: { command: ['CMD-SHELL', 'true'], interval: 5, timeout: 3, retries: 1, startPeriod: 1 } },
        { name: 'plain', image: TEST_IMAGE, command: ['sleep', '600'], stopTimeout: 1 },
      ],
    });
    const running = await agent().waitFor(arn, (t) => t.knownStatus === 'RUNNING');
    ctx.expect([container(running, 'web').health, container(running, 'plain').health]).toEqual(['UNKNOWN', undefined]);
    const seconds = 1e9;
    ctx.expect(inspect(container(running, 'web').dockerId!).Config.Healthcheck).toEqual({
      Test: ['CMD-SHELL', 'true'],
      Interval: 5 * seconds,
      Timeout: 3 * seconds,
      Retries: 1,
      StartPeriod: 1 * seconds,
    });
    const t = await agent().waitFor(arn, (x) => container(x, 'web').health === 'HEALTHY', 30_000);
    ctx.expect(t.health).toBe('HEALTHY');
    const reported = (await agent().events(arn)).filter((e) => e.containerName === 'web' && e.health === 'HEALTHY');
    ctx.expect(reported).toHaveLength(1);
    ctx.expect(reported[0]).toMatchObject({ status: 'RUNNING', dockerId: container(t, 'web').dockerId });
    const dump = runCli(['state', 'dump', '--data-dir', agent().agent.dataDir]);
    ctx.expect(dump.stdout).toMatch(new RegExp(`task ${arn.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} .* health HEALTHY`));
    await agent().stopTask(arn);
  });

  it('a failing health check: UNHEALTHY on the container and the feed; one unhealthy essential container makes the task UNHEALTHY', async (ctx) => {
    const arn = await post(ctx, 'unhealthy', {
      containerDefinitions: [
        { name: 'bad', image: TEST_IMAGE, command: ['sleep', '600'], stopTimeout: 1, healthCheck: { command: ['CMD-SHELL', 'exit 1'], interval: 5, retries: 1 } },
        { name: 'good', image: TEST_IMAGE, command: ['sleep', '600'], stopTimeout: 1, healthCheck: { command: ['CMD', 'true'], interval: 5, retries: 1 } },
      ],
    });
    const t = await agent().waitFor(arn, (x) => container(x, 'bad').health === 'UNHEALTHY' && container(x, 'good').health === 'HEALTHY', 30_000);
    ctx.expect(t.health).toBe('UNHEALTHY');
    ctx.expect(t.knownStatus).toBe('RUNNING');
    const reported = (await agent().events(arn)).filter((e) => e.containerName === 'bad' && e.health !== undefined).map((e) => e.health);
    ctx.expect(reported.at(-1)).toBe('UNHEALTHY');
    await agent().stopTask(arn);
  });

  it('a stopTimeout past the generic 30 s Docker deadline: the stop waits it out, once, and the container ends on its own', async (ctx) => {
    // The bug: the stop call's deadline was the generic 30 s, so a container taking longer to end
    // than that (within its 45 s) logged "docker stop did not answer within 30000 ms" and was
    // stopped again. This one ends 31 s after SIGTERM: only a deadline that follows stopTimeout
    // lets that one stop succeed.
    const arn = await post(ctx, 'long-stop', {
      containerDefinitions: [{ name: 'slow', image: TEST_IMAGE, command: endsAfterTerm(31), stopTimeout: 45 }],
    });
    const running = await agent().waitFor(arn, (t) => t.knownStatus === 'RUNNING');
    const id = container(running, 'slow').dockerId!;
    const since = Date.now() / 1000;
    await agent().stopTask(arn);
    const t = await agent().waitStopped(arn, 80_000);
    ctx.expect(container(t, 'slow')).toMatchObject({ exitCode: 0, reason: 'TaskStopRequested' });
    ctx.expect(ms(container(t, 'slow').finishedAt) - since * 1000).toBeGreaterThanOrEqual(30_000);
    const sigterms = dockerEvents(since - 1, Date.now() / 1000, ['type=container', `container=${id}`, 'event=kill']);
    ctx.expect(sigterms.map((e) => e.Actor.Attributes.signal)).toEqual(['15']);
    ctx.expect(agent().agent.log()).not.toMatch(/did not answer within/);
  }, 120_000);
});

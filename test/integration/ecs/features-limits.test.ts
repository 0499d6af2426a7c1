import { describe, it, type TestContext } from 'vitest';
import { TEST_IMAGE } from '../global-setup.js';
import { container, fileAgent, inspect, ms, startAttempts } from './support.js';

/*
 * Issue 8 §5 (limits and the rest of the container) and the retry-budget bug of §6, on real
 * Docker, in the ECS form: what the NNN-ecsagent-* definitions do not already show (user,
 * workingDirectory, interactive/pseudoTerminal, readonlyRootFilesystem, systemControls, tmpfs,
 * ulimits and json-file logging are 038, 039, 021, 033, 036, 037, 027 and 042 there). This agent
 * runs without --allow-privileged.
 */

const agent = fileAgent('limits');

function post(ctx: TestContext, label: string, def: Record<string, unknown>): Promise<string> {
  return agent().postFor(ctx, label, def);
}

const MIB = 1024 * 1024;

describe.concurrent('limits and container settings, on real Docker', () => {
  it('cpu (0, 1 and none become 2), memory, memoryReservation, ulimits, maxSwap and swappiness reach Docker', async (ctx) => {
    const quick = (name: string, extra: Record<string, unknown>) => ({ name, image: TEST_IMAGE, essential: false, command: ['true'], ...extra });
    const arn = await post(ctx, 'limits', {
      containerDefinitions: [
        quick('sized', {
          cpu: 256,
          memory: 64,
          memoryReservation: 32,
          ulimits: [{ name: 'nofile', softLimit: 100, hardLimit: 200 }, { name: 'nproc', softLimit: 50, hardLimit: 60 }],
          linuxParameters: { maxSwap: 32, swappiness: 10 },
        }),
        quick('zero', { cpu: 0 }),
        quick('one', { cpu: 1 }),
        quick('unset', {}),
        // Essential, and last: the task runs until every other container has run.
        {
          name: 'last',
          image: TEST_IMAGE,
          command: ['true'],
          dependsOn: ['sized', 'zero', 'one', 'unset'].map((containerName) => ({ containerName, condition: 'COMPLETE' })),
        },
      ],
    });
    const t = await agent().waitStopped(arn);
    ctx.expect(inspect(container(t, 'sized').dockerId!).HostConfig).toMatchObject({
      CpuShares: 256,
      Memory: 64 * MIB,
      MemoryReservation: 32 * MIB,
      // Docker's swap limit is memory plus swap.
      MemorySwap: 96 * MIB,
      MemorySwappiness: 10,
      Ulimits: [
        { Name: 'nofile', Soft: 100, Hard: 200 },
        { Name: 'nproc', Soft: 50, Hard: 60 },
      ],
    });
    for (const name of ['zero', 'one', 'unset']) ctx.expect(inspect(container(t, name).dockerId!).HostConfig.CpuShares, name).toBe(2);
  });

  it('a container over its memory limit is killed by the kernel: OutOfMemory', async (ctx) => {
    // tail keeps all of its endless input in memory, looking for the last lines.
    const arn = await post(ctx, 'oom', {
      containerDefinitions: [{ name: 'hog', image: TEST_IMAGE, memory: 16, command: ['sh', '-c', 'tail /dev/zero'] }],
    });
    const hog = container(await agent().waitStopped(arn), 'hog');
    ctx.expect(hog).toMatchObject({ knownStatus: 'STOPPED', reason: 'OutOfMemory', exitCode: 137 });
    ctx.expect(inspect(hog.dockerId!).State.OOMKilled).toBe(true);
  });

  it('a log driver Docker does not have fails the container with Docker\'s message', async (ctx) => {
    // Docker itself looks for such a plugin for about 15 s before it answers the create.
    const arn = await post(ctx, 'log-driver', {
      containerDefinitions: [{ name: 'app', image: TEST_IMAGE, command: ['true'], logConfiguration: { logDriver: 'nosuchdriver' } }],
    });
    const app = container(await agent().waitStopped(arn), 'app');
    ctx.expect(app).toMatchObject({ knownStatus: 'STOPPED', reason: 'CreateFailed' });
    ctx.expect(app.reasonMessage).toContain('plugin "nosuchdriver" not found');
    ctx.expect(app.dockerId).toBeUndefined();
  });

  it('privileged is refused with 400, naming the field, by an agent without --allow-privileged, and nothing is made', async (ctx) => {
    const arn = agent().arn('privileged');
    const res = await agent().agent.client.post<{ error: { code: string; issues: Array<{ path: string; message: string }> } }>('/v1/tasks', {
      arn,
      family: 'ecs-it-privileged',
      containerDefinitions: [{ name: 'root', image: TEST_IMAGE, privileged: true }],
    });
    ctx.expect(res.status).toBe(400);
    ctx.expect(res.body.error.code).toBe('InvalidInput');
    ctx.expect(res.body.error.issues.map((i) => i.path)).toEqual(['containerDefinitions[0].privileged']);
    ctx.expect(res.body.error.issues[0]!.message).toContain('--allow-privileged');
    ctx.expect(await agent().agent.task(arn)).toBeUndefined();
  });

  it('entryPoint with command, environment and dockerSecurityOptions no-new-privileges', async (ctx) => {
    const arn = await post(ctx, 'process', {
      containerDefinitions: [
        {
          name: 'exit',
          image: TEST_IMAGE,
          entryPoint: ['sh', '-c'],
          command: ['grep -q "NoNewPrivs:.1" /proc/self/status && exit "$ANSWER"'],
          environment: [{ name: 'ANSWER', value: '42' }],
          dockerSecurityOptions: ['no-new-privileges'],
        },
      ],
    });
    const exit = container(await agent().waitStopped(arn), 'exit');
    ctx.expect(exit.exitCode).toBe(42);
    ctx.expect(inspect(exit.dockerId!).HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
  });

  it('linuxParameters seen from inside: an init as PID 1, a 100 MiB /dev/shm, SYS_ADMIN added and MKNOD dropped, a device', async (ctx) => {
    // 020, 035 and 040 check these on inspect only (their commands need ubuntu's tools).
    const checks = [
      '[ "$(cat /proc/1/comm)" = docker-init ]',
      '[ "$(df -k /dev/shm | awk \'NR == 2 { print $2 }\')" = 102400 ]',
      'cap=$(grep CapEff /proc/self/status | cut -f2)',
      '[ $((0x$cap >> 21 & 1)) = 1 ] && [ $((0x$cap >> 27 & 1)) = 0 ]',
      '[ -c /dev/berth-null ] && echo x > /dev/berth-null',
    ];
    const arn = await post(ctx, 'linux-parameters', {
      containerDefinitions: [
        {
          name: 'exit',
          image: TEST_IMAGE,
          command: ['sh', '-c', `${checks.join(' && ')} && exit 42`],
          linuxParameters: {
            initProcessEnabled: true,
            sharedMemorySize: 100,
            capabilities: { add: ['SYS_ADMIN'], drop: ['MKNOD'] },
            devices: [{ hostPath: '/dev/null', containerPath: '/dev/berth-null', permissions: ['read', 'write'] }],
          },
        },
      ],
    });
    ctx.expect(container(await agent().waitStopped(arn), 'exit').exitCode).toBe(42);
  });

  it('a start that keeps failing is retried within its budget, then the container stops: StartFailed, never retried forever', async (ctx) => {
    // Docker answers 500 (retryable as far as anyone can tell) for a device the host lacks. The
    // budget (3 retries by default) must hold across the re-read that follows each failed start.
    const since = Date.now() / 1000;
    const arn = await post(ctx, 'start-budget', {
      containerDefinitions: [{ name: 'app', image: TEST_IMAGE, command: ['true'], linuxParameters: { devices: [{ hostPath: '/dev/berth-no-such-device' }] } }],
    });
    const app = container(await agent().waitStopped(arn, 30_000), 'app');
    ctx.expect(app).toMatchObject({ knownStatus: 'STOPPED', reason: 'StartFailed' });
    ctx.expect(app.reasonMessage).toContain('/dev/berth-no-such-device');
    ctx.expect(startAttempts(app.dockerId!, since - 1)).toBe(4);
    // With backoff between them: 0.5 s, 1 s and 2 s, each at least half of that (equal jitter).
    ctx.expect(ms(app.finishedAt) - ms(app.createdAt)).toBeGreaterThanOrEqual(1_750);
  });
});

import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, it, type TestContext } from 'vitest';
import type { TaskView } from '../../../src/api/view.js';
import { docker } from '../../support/agent-process.js';
import { TEST_IMAGE } from '../global-setup.js';
import { container, EcsAgent, expectPortFree, inspect, lines, ms, onTestImage, taskDefinition, type EcsDefinition } from './support.js';

/*
 * The ECS agent's own functional-test definitions (the NNN-ecsagent-* files), posted as written
 * with only their images pointed at the test image, to the built agent on real Docker; each
 * asserts what the ECS functional test asserts for it.
 *
 * Out of scope, each refused at POST (test/unit/api/ecs-taskdefs.test.ts checks the refusal):
 * - 004 container-health, 030 memory-overcommit: templates whose placeholders are not JSON.
 * - 003 nginx, 034 security-opt-nonewprivileges: `portBindings`, a key ECS does not define.
 * - 045 firelens-fluentbit: firelensConfiguration, the awsfirelens driver and secretOptions.
 * - 046 secrets: `secrets` from Secrets Manager.  047 efs: an EFS volume.
 * - 048 nvidia-gpu: resourceRequirements.  049 elastic-inference: awsvpc, inference devices.
 * - 050 private-registry-auth: repositoryCredentials.  051 service-connect: awsvpc.
 * In scope: the other 40 (001, 002, 005-029, 031, 032, 033, 035-044).
 */

let ecs: EcsAgent;
// --allow-privileged: 032 asks for a privileged container.
beforeAll(async () => {
  ecs = await EcsAgent.start('taskdefs', ['--allow-privileged']);
});
afterAll(async () => {
  await ecs?.close();
});

/** Posts definition `number` (by default as written, on the test image) under a fresh arn; its containers and volumes go when the test ends. */
async function post(ctx: TestContext, number: string, def: EcsDefinition = onTestImage(taskDefinition(number))): Promise<string> {
  const arn = ecs.arn(number);
  ctx.onTestFinished(() => ecs.removeTask(arn));
  await ecs.post({ ...def, arn });
  return arn;
}

const exitOf = (t: TaskView, name: string): number | undefined => container(t, name).exitCode;

/** The definitions whose essential container `exit` checks the feature itself and exits 42 when it works. */
const SELF_CHECKING: ReadonlyArray<[string, string]> = [
  ['001', 'simple-exit'],
  ['011', 'datavolume: a host {} volume reached through volumesFrom'],
  ['012', 'datavolume2: volumesFrom a container that never runs, and a link'],
  ['017', 'dnsServers'],
  ['018', 'extraHosts'],
  ['019', 'hostname'],
  ['021', 'interactive + pseudoTerminal: stdin is a terminal'],
  ['025', 'disableNetworking: no address but loopback'],
  ['027', 'ulimits nofile 123/234'],
  ['033', 'readonlyRootFilesystem'],
  ['036', 'systemControls net.ipv4.conf.default.rp_filter=0'],
  ['037', 'linuxParameters.tmpfs ro,noexec,size=100m'],
  ['038', 'user nobody'],
  ['039', 'workingDirectory /var'],
];

describe.concurrent('the ECS agent functional-test definitions, as written, on real Docker', () => {
  it.for(SELF_CHECKING)('%s %s: the essential container exits 42', async ([number], ctx) => {
    const t = await ecs.waitStopped(await post(ctx, number));
    ctx.expect(container(t, 'exit')).toMatchObject({ knownStatus: 'STOPPED', exitCode: 42 });
  });

  it('002 busybox-port-5180: what the container sends on port 80 is read on 127.0.0.1:5180', async (ctx) => {
    await expectPortFree(5180);
    const arn = await post(ctx, '002');
    const running = await ecs.waitFor(arn, (t) => t.knownStatus === 'RUNNING');
    ctx.expect(container(running, 'sleep').portBindings).toEqual([{ containerPort: 80, hostPort: 5180, hostIp: '127.0.0.1', protocol: 'tcp' }]);
    ctx.expect(await readPort(5180, 'foobar', 20_000)).toContain('foobar');
    // nc answers one connection, then exits: the essential container's end is the task's.
    const t = await ecs.waitStopped(arn);
    ctx.expect(container(t, 'sleep')).toMatchObject({ exitCode: 0, reason: 'ContainerExited' });
  });

  it('005 container-ordering-complete: the dependent runs once its dependency exited, even non-zero', async (ctx) => {
    const t = await ecs.waitStopped(await post(ctx, '005'));
    const [main, dep] = [container(t, 'complete'), container(t, 'complete-dependency')];
    ctx.expect([main.exitCode, dep.exitCode]).toEqual([0, 1]);
    ctx.expect(ms(main.startedAt)).toBeGreaterThanOrEqual(ms(dep.finishedAt));
  });

  it('006 container-ordering-healthy: the dependent is created once its dependency is HEALTHY, shown and reported', async (ctx) => {
    const arn = await post(ctx, '006');
    // The dependency's health check writes the file the dependent reads.
    const healthy = await ecs.waitFor(arn, (t) => container(t, 'healthy').knownStatus === 'STOPPED', 60_000);
    ctx.expect(container(healthy, 'healthy').exitCode).toBe(0);
    ctx.expect(container(healthy, 'healthy-dependency')).toMatchObject({ knownStatus: 'RUNNING', health: 'HEALTHY' });
    ctx.expect(healthy.health).toBe('HEALTHY');
    const t = await ecs.waitStopped(arn, 90_000);
    ctx.expect([exitOf(t, 'healthy'), exitOf(t, 'healthy-dependency')]).toEqual([0, 0]);
    const events = await ecs.events(arn);
    const becameHealthy = events.find((e) => e.containerName === 'healthy-dependency' && e.health === 'HEALTHY');
    const created = events.find((e) => e.containerName === 'healthy' && (e.status === 'CREATED' || e.status === 'RUNNING'));
    ctx.expect(becameHealthy).toBeDefined();
    ctx.expect(created!.seq).toBeGreaterThan(becameHealthy!.seq);
  }, 150_000);

  it('007 container-ordering-success: the dependent runs once its dependency exited 0', async (ctx) => {
    const t = await ecs.waitStopped(await post(ctx, '007'));
    const [main, dep] = [container(t, 'success'), container(t, 'success-dependency')];
    ctx.expect([main.exitCode, dep.exitCode]).toEqual([0, 0]);
    ctx.expect(ms(main.startedAt)).toBeGreaterThanOrEqual(ms(dep.finishedAt));
  });

  it('008 container-ordering-timedout: a SUCCESS dependency past its startTimeout stops the dependent uncreated, DependencyTimeout', async (ctx) => {
    const arn = await post(ctx, '008');
    const t = await ecs.waitStopped(arn, 90_000);
    const [main, dep] = [container(t, 'success-timeout'), container(t, 'success-timeout-dependency')];
    ctx.expect(main).toMatchObject({ knownStatus: 'STOPPED', reason: 'DependencyTimeout' });
    ctx.expect(main.reasonMessage).toContain('success-timeout-dependency');
    ctx.expect(main.dockerId).toBeUndefined();
    // Its startTimeout (5 s) counts from when the dependency started.
    const gaveUp = (await ecs.events(arn)).find((e) => e.containerName === 'success-timeout' && e.status === 'STOPPED')!;
    ctx.expect(ms(gaveUp.at) - ms(dep.startedAt)).toBeGreaterThanOrEqual(4_500);
    // Then the task stops: the dependency's shell ignores SIGTERM as PID 1 and is killed after its 30 s.
    ctx.expect(dep.exitCode).toBe(137);
  }, 150_000);

  it('009 container-ordering: SUCCESS, COMPLETE and HEALTHY dependencies each hold their dependent back', async (ctx) => {
    const arn = await post(ctx, '009');
    const t = await ecs.waitStopped(arn, 110_000);
    ctx.expect(exitOf(t, 'success')).toBe(0);
    const startedAfterExit = (name: string, dep: string): void =>
      ctx.expect(ms(container(t, name).startedAt), `${name} started after ${dep} exited`).toBeGreaterThanOrEqual(ms(container(t, dep).finishedAt));
    startedAfterExit('success', 'success-dependency');
    startedAfterExit('complete', 'complete-dependency');
    const events = await ecs.events(arn);
    const becameHealthy = events.find((e) => e.containerName === 'healthy-dependency' && e.health === 'HEALTHY')!;
    const created = events.find((e) => e.containerName === 'healthy' && (e.status === 'CREATED' || e.status === 'RUNNING'))!;
    ctx.expect(created.seq).toBeGreaterThan(becameHealthy.seq);
  }, 150_000);

  it('010 granular-stop-timeout: each dependency is stopped with its own stopTimeout, after its dependent', async (ctx) => {
    const t = await ecs.waitStopped(await post(ctx, '010'), 90_000);
    // dependency1's shell runs its trap only after `sleep 30`: its 2 s pass first and it is killed;
    // dependency2's 20 s outlast the sleep, so it ends on its own.
    ctx.expect([exitOf(t, 'parent'), exitOf(t, 'dependency1'), exitOf(t, 'dependency2')]).toEqual([0, 137, 0]);
    const parentDone = ms(container(t, 'parent').finishedAt);
    const killedAfter = ms(container(t, 'dependency1').finishedAt) - parentDone;
    ctx.expect(killedAfter).toBeGreaterThanOrEqual(2_000);
    ctx.expect(killedAfter).toBeLessThan(10_000);
    ctx.expect(ms(container(t, 'dependency2').finishedAt)).toBeGreaterThan(ms(container(t, 'dependency1').finishedAt));
  }, 120_000);

  it('013 task-local-vol: a task-scoped volume with driverOpts and labels, made for the task', async (ctx) => {
    const t = await ecs.waitStopped(await post(ctx, '013'));
    const exit = container(t, 'exit');
    ctx.expect(exit.exitCode).toBe(42);
    const mount = inspect(exit.dockerId!).Mounts.find((m) => m.Destination === '/ecs')!;
    ctx.expect(mount).toMatchObject({ Type: 'volume', RW: true });
    const volume = JSON.parse(docker('volume', 'inspect', mount.Name!))[0] as { Options: Record<string, string>; Labels: Record<string, string> };
    ctx.expect(volume.Options).toEqual({ type: 'tmpfs', device: 'tmpfs' });
    ctx.expect(volume.Labels).toMatchObject({ mylables: 'test', 'berth.task-arn': t.arn, 'berth.agent-id': ecs.id });
  });

  it('014 then 015 task-shared-vol: a shared volume one task writes (autoprovision) is read by the next (no autoprovision)', async (ctx) => {
    // The definitions name their shared volume `task-shared`: it must be this test's own.
    ctx.expect(lines(docker('volume', 'ls', '-q', '--filter', 'name=^task-shared$')), 'a volume task-shared exists already').toEqual([]);
    ctx.onTestFinished(() => {
      if (lines(docker('volume', 'ls', '-q', '--filter', 'name=^task-shared$')).length > 0) docker('volume', 'rm', '-f', 'task-shared');
    });
    const writer = await ecs.waitStopped(await post(ctx, '014'));
    ctx.expect(exitOf(writer, 'task-shared-vol-write')).toBe(42);
    const reader = await ecs.waitStopped(await post(ctx, '015'));
    ctx.expect(exitOf(reader, 'task-shared-vol-read')).toBe(42);
    ctx.expect(JSON.parse(docker('volume', 'inspect', 'task-shared'))[0]).toMatchObject({ Labels: { mylables: 'test' } });
  });

  it('016 devices: the device is passed to Docker; this host has no /dev/xvda, so Docker refuses the start, and says so', async (ctx) => {
    const t = await ecs.waitStopped(await post(ctx, '016'));
    const exit = container(t, 'exit');
    ctx.expect(inspect(exit.dockerId!).HostConfig.Devices).toEqual([{ PathOnHost: '/dev/xvda', PathInContainer: '/dev/sda', CgroupPermissions: 'r' }]);
    if (existsSync('/dev/xvda')) {
      ctx.expect(exit.exitCode).toBe(42);
    } else {
      ctx.expect(exit).toMatchObject({ reason: 'StartFailed' });
      ctx.expect(exit.reasonMessage).toContain('error gathering device information while adding custom device "/dev/xvda": no such file or directory');
    }
  });

  it('020 init-process: Docker runs an init as PID 1 (checked on inspect: the test image has no `init` by that name)', async (ctx) => {
    // The definition looks for a process named `init`; Docker 20.10 mounts its init as
    // /sbin/docker-init, so `pidof init` finds nothing with any image: read the setting instead.
    const t = await ecs.waitStopped(await post(ctx, '020'));
    ctx.expect(inspect(container(t, 'exit').dockerId!).HostConfig.Init).toBe(true);
  });

  it('022 invalid-image: an image that cannot be pulled stops the container, PullFailed, in the resolver\'s words', async (ctx) => {
    // The one definition whose image is the point: it stays example.com/nonexistent.
    const t = await ecs.waitStopped(await post(ctx, '022', taskDefinition('022')));
    const error = container(t, 'error');
    ctx.expect(error).toMatchObject({ knownStatus: 'STOPPED', reason: 'PullFailed' });
    ctx.expect(error.reasonMessage).toContain('example.com');
    ctx.expect(error.dockerId).toBeUndefined();
  });

  it('023 ipc-namespace-task-share: the task\'s IPC namespace is shareable (checked on inspect: the ECS IPC test image is not here)', async (ctx) => {
    const t = await ecs.waitStopped(await post(ctx, '023'));
    ctx.expect(inspect(container(t, 'ipcProducer').dockerId!).HostConfig.IpcMode).toBe('shareable');
  });

  it('024 pid-namespace-task-read: a task-shared PID namespace does not see another task\'s processes: exit 2', async (ctx) => {
    // The ECS test's sharing task runs pidNamespaceTest with pidMode task; this one names it on its command line.
    const sharerArn = ecs.arn('024-sharer');
    ctx.onTestFinished(() => ecs.removeTask(sharerArn));
    await ecs.post({
      arn: sharerArn,
      family: 'ecsftest-task-pid-namespace-share',
      pidMode: 'task',
      containerDefinitions: [{ name: 'pidProducer', image: TEST_IMAGE, stopTimeout: 1, command: ['sh', '-c', 'while true; do sleep 1; done # pidNamespaceTest'] }],
    });
    await ecs.waitFor(sharerArn, (t) => t.knownStatus === 'RUNNING');
    const t = await ecs.waitStopped(await post(ctx, '024'));
    ctx.expect(exitOf(t, 'pidConsumer')).toBe(2);
    await ecs.stopTask(sharerArn);
  });

  it('026 network-link-2: links and volumesFrom order six containers; the linked-to chain is up when exit runs', async (ctx) => {
    const arn = await post(ctx, '026');
    // The chain's shells ignore SIGTERM as PID 1: stopping it, in reverse order, takes 4 × 30 s.
    // What the ECS test checks is exit's code; the stop order is 010's and the features' business.
    const t = await ecs.waitFor(arn, (x) => container(x, 'exit').knownStatus === 'STOPPED' && x.desiredStatus === 'STOPPED');
    ctx.expect(exitOf(t, 'exit')).toBe(42);
    const links = inspect(container(t, 'c').dockerId!).HostConfig.Links as string[];
    ctx.expect(links.map((l) => l.split(':')[1]!.split('/').pop()).sort()).toEqual(['a', 'b', 'bb']);
  });

  it.for([
    ['028', 'oom-task', 0],
    ['029', 'oom-container', 64 * 1024 * 1024],
  ] as const)('%s %s: the stress image is not here; the start fails in Docker\'s words, the memory limit is on inspect', async ([number, , memory], ctx) => {
    // amazon/amazon-ecs-stress takes `-concurrency 10 -memory 100` as its arguments; the test
    // image has no such program. OOM itself is covered by features.test.ts. A task-level memory
    // (028) is kept for host-resource accounting, not applied to the container.
    const t = await ecs.waitStopped(await post(ctx, number));
    const error = container(t, 'error');
    ctx.expect(error).toMatchObject({ reason: 'StartFailed' });
    ctx.expect(error.reasonMessage).toContain('exec: "-concurrency": executable file not found');
    ctx.expect(inspect(error.dockerId!).HostConfig.Memory).toBe(memory);
  });

  it('031 parallel-pull: ten containers pull at once, each with its memory and cpu', async (ctx) => {
    // The test image's default command exits at once, so the first essential container to exit
    // stops the task (as in ECS) and the others may be stopped before they start.
    const arn = await post(ctx, '031');
    const t = await ecs.waitStopped(arn);
    const pulled = new Set((await ecs.events(arn)).filter((e) => e.type === 'container' && e.status === 'PULLED').map((e) => e.containerName));
    ctx.expect(pulled.size).toBe(10);
    const made = t.containers.filter((c) => c.dockerId !== undefined);
    ctx.expect(made.length).toBeGreaterThan(0);
    for (const c of made) ctx.expect(inspect(c.dockerId!).HostConfig).toMatchObject({ Memory: 20 * 1024 * 1024, CpuShares: 10 });
  });

  it('032 privileged: a privileged container runs when the host allows it; where it cannot, Docker says why', async (ctx) => {
    const t = await ecs.waitStopped(await post(ctx, '032'));
    const exit = container(t, 'exit');
    ctx.expect(inspect(exit.dockerId!).HostConfig.Privileged).toBe(true);
    const probe = privilegedProbe();
    if (probe.ok) ctx.expect(exit.exitCode).toBe(42);
    else ctx.expect(exit.reasonMessage, `this host cannot run privileged containers: ${probe.error}`).toContain('unable to apply caps: operation not permitted');
  });

  it('035 shmsize: /dev/shm is 100 MiB (checked on inspect: busybox df prints 100.0M, not the 100M the command greps)', async (ctx) => {
    const t = await ecs.waitStopped(await post(ctx, '035'));
    ctx.expect(inspect(container(t, 'exit').dockerId!).HostConfig.ShmSize).toBe(100 * 1024 * 1024);
  });

  it('040 add-drop-capabilities: SYS_ADMIN added, MKNOD dropped (checked on inspect: the test image has no capsh)', async (ctx) => {
    const t = await ecs.waitStopped(await post(ctx, '040'));
    ctx.expect(inspect(container(t, 'exit').dockerId!).HostConfig).toMatchObject({ CapAdd: ['SYS_ADMIN'], CapDrop: ['MKNOD'] });
  });

  it('041 labels: dockerLabels are on the container, next to berth\'s own', async (ctx) => {
    const t = await ecs.waitStopped(await post(ctx, '041'));
    const labeled = container(t, 'labeled');
    ctx.expect(labeled.exitCode).toBe(0);
    ctx.expect(inspect(labeled.dockerId!).Config.Labels).toMatchObject({ label1: '', 'com.foo.label2': 'value', 'berth.task-arn': t.arn });
  });

  it('042 logdriver-jsonfile: json-file with max-file and max-size, as given', async (ctx) => {
    const t = await ecs.waitStopped(await post(ctx, '042'));
    const exit = container(t, 'exit');
    ctx.expect(exit.exitCode).toBe(0);
    ctx.expect(inspect(exit.dockerId!).HostConfig.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-file': '50', 'max-size': '50k' } });
  });

  it('043 fluentd-tag: no fluentd listens here, so Docker refuses the start, and says so; the driver and tag are on inspect', async (ctx) => {
    await expectPortFree(24224);
    const t = await ecs.waitStopped(await post(ctx, '043'));
    const c = container(t, 'fluentd-test');
    ctx.expect(c).toMatchObject({ reason: 'StartFailed' });
    ctx.expect(c.reasonMessage).toContain('failed to initialize logging driver: dial tcp 127.0.0.1:24224: connect: connection refused');
    ctx.expect(inspect(c.dockerId!).HostConfig.LogConfig).toEqual({ Type: 'fluentd', Config: { 'fluentd-address': 'localhost:24224', tag: 'ecs.{{.Name}}.{{.FullID}}' } });
  });

  it('044 awslogs: passed through to Docker, which cannot reach CloudWatch from here, and says so', async (ctx) => {
    // `awslogs-stream-prefix` is the ECS agent's option, not Docker's: ECS turns it into
    // `awslogs-stream: <prefix>/<container name>/<task id>`. Docker refuses it as written ("unknown
    // log opt"), at create; translated, the driver is Docker's to start, and fails here at start,
    // as nothing here holds AWS credentials nor a real region.
    const t = await ecs.waitStopped(await post(ctx, '044'));
    const c = container(t, 'awslogs');
    ctx.expect(c).toMatchObject({ reason: 'StartFailed', reasonMessage: ctx.expect.stringContaining('failed to initialize logging driver') });
    ctx.expect(inspect(c.dockerId!).HostConfig.LogConfig.Type).toBe('awslogs');
  });
});

/** Reads what a connection to 127.0.0.1:`port` gets, until it contains `expected` (the container may not listen yet). */
async function readPort(port: number, expected: string, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    last = await new Promise<string>((resolve) => {
      let data = '';
      const socket = connect(port, '127.0.0.1');
      socket.setTimeout(2_000, () => socket.destroy());
      socket.on('data', (d: Buffer) => {
        data += d.toString();
        if (data.includes(expected)) socket.end();
      });
      socket.on('close', () => resolve(data));
      socket.on('error', () => resolve(data));
    });
    if (last.includes(expected)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`127.0.0.1:${port} did not send ${JSON.stringify(expected)} within ${ms} ms (last: ${JSON.stringify(last)})`);
}

/** Whether this host's Docker can start a privileged container at all (a nested daemon without every capability cannot). */
function privilegedProbe(): { ok: boolean; error?: string } {
  const name = `berth-ecs-it-privileged-probe-${ecs.id}`;
  try {
    docker('run', '--name', name, '--privileged', TEST_IMAGE, 'true');
    return { ok: true };
  } catch (error) {
    return { ok: false, error: String((error as { stderr?: string }).stderr ?? error) };
  } finally {
    docker('rm', '-f', name);
  }
}

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'vitest';
import { docker } from '../../support/agent-process.js';
import { TEST_IMAGE } from '../global-setup.js';
import { container, EcsAgent, fileAgent, freePort, inspect, lines, startAttempts } from './support.js';

/*
 * Issue 8 §4 ports and volumes, and the port-conflict retry bug of §6, on real Docker, in the ECS
 * form. Traffic only ever goes to ports published on 127.0.0.1.
 */

const agent = fileAgent('ports-volumes');

function post(ctx: TestContext, label: string, def: Record<string, unknown>, on: EcsAgent = agent()): Promise<string> {
  return on.postFor(ctx, label, def);
}

function tempDir(ctx: TestContext, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `berth-ecs-${name}-`));
  ctx.onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const page = async (port: number): Promise<string> => (await fetch(`http://127.0.0.1:${port}/`)).text();

const web = (label: string, port: number) => ({
  containerDefinitions: [{ name: 'web', image: TEST_IMAGE, stopTimeout: 1, command: ['httpd', '-f', '-p', '8080', '-h', '/www'], portMappings: [{ containerPort: 8080, hostPort: port }] }],
  family: `ecs-it-${label}`,
});

describe.concurrent('ports and volumes, on real Docker', () => {
  it('static and dynamic host ports (hostPort given, 0, left out) on 127.0.0.1: the bindings Docker made are read back and serve', async (ctx) => {
    const fixed = await freePort();
    const arn = await post(ctx, 'ports', {
      containerDefinitions: [
        {
          name: 'web',
          image: TEST_IMAGE,
          stopTimeout: 1,
          command: ['sh', '-c', 'httpd -p 8081 -h /www && httpd -p 8082 -h /www && exec httpd -f -p 8080 -h /www'],
          portMappings: [{ containerPort: 8080, hostPort: fixed }, { containerPort: 8081, hostPort: 0 }, { containerPort: 8082 }],
        },
      ],
    });
    const t = await agent().waitFor(arn, (x) => x.knownStatus === 'RUNNING');
    const bindings = container(t, 'web').portBindings;
    ctx.expect(bindings.map((b) => [b.containerPort, b.hostIp, b.protocol])).toEqual([
      [8080, '127.0.0.1', 'tcp'],
      [8081, '127.0.0.1', 'tcp'],
      [8082, '127.0.0.1', 'tcp'],
    ]);
    ctx.expect(bindings[0]!.hostPort).toBe(fixed);
    for (const b of bindings.slice(1)) ctx.expect(b.hostPort).toBeGreaterThan(0);
    // What Docker says it bound is what the agent reports.
    const ports = inspect(container(t, 'web').dockerId!).NetworkSettings.Ports;
    ctx.expect(bindings.map((b) => ports[`${b.containerPort}/tcp`]![0])).toEqual(bindings.map((b) => ({ HostIp: '127.0.0.1', HostPort: String(b.hostPort) })));
    for (const b of bindings) ctx.expect((await page(b.hostPort)).trim()).toBe('berth test page');
    const running = (await agent().events(arn)).find((e) => e.containerName === 'web' && e.status === 'RUNNING');
    ctx.expect(running?.portBindings).toEqual(bindings);
    await agent().stopTask(arn);
  });

  it('a static host port a container outside berth holds: PortConflict naming the port, started once, never retried', async (ctx) => {
    const port = await freePort();
    const theirs = docker('run', '-d', '-p', `127.0.0.1:${port}:8080`, TEST_IMAGE, 'httpd', '-f', '-p', '8080', '-h', '/www').trim();
    ctx.onTestFinished(() => void docker('rm', '-f', theirs));
    const since = Date.now() / 1000;
    const arn = await post(ctx, 'port-taken', web('port-taken', port));
    const t = await agent().waitStopped(arn);
    const c = container(t, 'web');
    ctx.expect(c).toMatchObject({ knownStatus: 'STOPPED', reason: 'PortConflict' });
    ctx.expect(c.reasonMessage).toContain(`127.0.0.1:${port}`);
    ctx.expect(startAttempts(c.dockerId!, since - 1)).toBe(1);
    // The holder is untouched and still serves.
    ctx.expect((await page(port)).trim()).toBe('berth test page');
  });

  it('a static host port another task holds: the second task waits for it (WaitingForResources), then runs once the first stops', async (ctx) => {
    const port = await freePort();
    const holder = await post(ctx, 'port-holder', web('port-holder', port));
    await agent().waitFor(holder, (t) => t.knownStatus === 'RUNNING');
    const second = await post(ctx, 'port-second', web('port-second', port));
    const queued = await agent().waitFor(second, () => true);
    ctx.expect(queued).toMatchObject({ knownStatus: 'NONE', reason: 'WaitingForResources', reasonMessage: `host port 127.0.0.1:${port}/tcp is held by task ${holder}` });
    ctx.expect(container(queued, 'web').dockerId).toBeUndefined();
    await agent().stopTask(holder);
    const t = await agent().waitFor(second, (x) => x.knownStatus === 'RUNNING');
    ctx.expect(container(t, 'web').portBindings[0]!.hostPort).toBe(port);
    ctx.expect((await page(port)).trim()).toBe('berth test page');
    await agent().stopTask(second);
  });

  it('a bind mount of a host directory, read-write and readOnly', async (ctx) => {
    const dir = tempDir(ctx, 'bind');
    const arn = await post(ctx, 'bind', {
      volumes: [{ name: 'data', host: { sourcePath: dir } }],
      containerDefinitions: [
        {
          name: 'exit',
          image: TEST_IMAGE,
          mountPoints: [
            { sourceVolume: 'data', containerPath: '/rw' },
            { sourceVolume: 'data', containerPath: '/ro', readOnly: true },
          ],
          command: ['sh', '-c', 'echo hello > /rw/hello && ! touch /ro/refused 2>/dev/null && [ "$(cat /ro/hello)" = hello ] && exit 42'],
        },
      ],
    });
    const t = await agent().waitStopped(arn);
    ctx.expect(container(t, 'exit').exitCode).toBe(42);
    ctx.expect(readFileSync(join(dir, 'hello'), 'utf8')).toBe('hello\n');
    ctx.expect(existsSync(join(dir, 'refused'))).toBe(false);
    const mounts = inspect(container(t, 'exit').dockerId!).Mounts.map((m) => [m.Type, m.Source, m.Destination, m.RW]);
    ctx.expect(mounts.sort()).toEqual([
      ['bind', dir, '/ro', false],
      ['bind', dir, '/rw', true],
    ]);
  });

  it('volumesFrom, read-write and readOnly', async (ctx) => {
    const arn = await post(ctx, 'volumes-from', {
      volumes: [{ name: 'store' }],
      containerDefinitions: [
        { name: 'store', image: TEST_IMAGE, essential: false, mountPoints: [{ sourceVolume: 'store', containerPath: '/data' }], command: ['sh', '-c', 'echo seed > /data/seed'] },
        {
          name: 'writer',
          image: TEST_IMAGE,
          essential: false,
          volumesFrom: [{ sourceContainer: 'store' }],
          dependsOn: [{ containerName: 'store', condition: 'SUCCESS' }],
          command: ['sh', '-c', 'touch /data/written && exit 42'],
        },
        {
          name: 'reader',
          image: TEST_IMAGE,
          volumesFrom: [{ sourceContainer: 'store', readOnly: true }],
          dependsOn: [{ containerName: 'writer', condition: 'COMPLETE' }],
          command: ['sh', '-c', '[ "$(cat /data/seed)" = seed ] && [ -f /data/written ] && ! touch /data/refused 2>/dev/null && exit 42'],
        },
      ],
    });
    const t = await agent().waitStopped(arn);
    ctx.expect([container(t, 'writer').exitCode, container(t, 'reader').exitCode]).toEqual([42, 42]);
    ctx.expect(inspect(container(t, 'reader').dockerId!).Mounts.map((m) => [m.Destination, m.RW])).toEqual([['/data', false]]);
  });

  it('a shared volume that is missing, without autoprovision: the container stops uncreated, VolumeMissing naming it', async (ctx) => {
    const name = `berth-ecs-it-missing-${Date.now().toString(36)}`;
    const arn = await post(ctx, 'volume-missing', {
      volumes: [{ name, dockerVolumeConfiguration: { scope: 'shared', autoprovision: false } }],
      containerDefinitions: [{ name: 'app', image: TEST_IMAGE, command: ['true'], mountPoints: [{ sourceVolume: name, containerPath: '/data' }] }],
    });
    const app = container(await agent().waitStopped(arn), 'app');
    ctx.expect(app).toMatchObject({ knownStatus: 'STOPPED', reason: 'VolumeMissing' });
    ctx.expect(app.reasonMessage).toContain(name);
    ctx.expect(app.dockerId).toBeUndefined();
    ctx.expect(lines(docker('volume', 'ls', '-q', '--filter', `name=^${name}$`))).toEqual([]);
  });

  it('at cleanup a task-scoped volume is removed with the task; a shared one is kept', async (ctx) => {
    const cleaner = await EcsAgent.start('cleanup', ['--cleanup-wait', '1s']);
    ctx.onTestFinished(() => cleaner.close());
    const shared = `berth-ecs-it-kept-${Date.now().toString(36)}`;
    ctx.onTestFinished(() => {
      if (lines(docker('volume', 'ls', '-q', '--filter', `name=^${shared}$`)).length > 0) docker('volume', 'rm', '-f', shared);
    });
    const arn = await post(
      ctx,
      'cleanup',
      {
        volumes: [{ name: 'scratch' }, { name: shared, dockerVolumeConfiguration: { scope: 'shared', autoprovision: true, labels: { owner: cleaner.id } } }],
        containerDefinitions: [
          {
            name: 'exit',
            image: TEST_IMAGE,
            mountPoints: [
              { sourceVolume: 'scratch', containerPath: '/scratch' },
              { sourceVolume: shared, containerPath: '/shared' },
            ],
            command: ['sh', '-c', 'touch /scratch/x /shared/x'],
          },
        ],
      },
      cleaner,
    );
    const t = await cleaner.waitStopped(arn);
    const scratch = inspect(container(t, 'exit').dockerId!).Mounts.find((m) => m.Destination === '/scratch')!.Name!;
    const volumes = (): string[] => lines(docker('volume', 'ls', '-q'));
    ctx.expect(volumes()).toEqual(ctx.expect.arrayContaining([scratch, shared]));
    await cleaner.agent.waitForTask(arn, (x) => x === undefined, 20_000);
    ctx.expect(volumes()).not.toContain(scratch);
    ctx.expect(volumes()).toContain(shared);
    ctx.expect(JSON.parse(docker('volume', 'inspect', shared))[0]).toMatchObject({ Labels: { owner: cleaner.id } });
  });
});

import { readFileSync } from 'node:fs';
import { describe, it, type TestContext } from 'vitest';
import { TEST_IMAGE } from '../global-setup.js';
import { container, fileAgent, freePort, inspect } from './support.js';

/*
 * Issue 8 §4 networking on real Docker, in the ECS form: what the NNN-ecsagent-* definitions do
 * not already show (links, hostname, dnsServers, extraHosts and disableNetworking are 012, 026,
 * 019, 017, 018 and 025 there).
 */

const agent = fileAgent('networking');

function post(ctx: TestContext, label: string, def: Record<string, unknown>): Promise<string> {
  return agent().postFor(ctx, label, def);
}

/** Waits for the task to stop; returns its containers' exit codes by name. */
async function exits(arn: string): Promise<Record<string, number | undefined>> {
  const t = await agent().waitStopped(arn);
  return Object.fromEntries(t.containers.map((c) => [c.name, c.exitCode]));
}

describe.concurrent('networking and namespaces, on real Docker', () => {
  it('networkMode host: the container listens on the host itself, reached on 127.0.0.1 without publishing', async (ctx) => {
    const port = await freePort();
    const arn = await post(ctx, 'net-host', {
      networkMode: 'host',
      containerDefinitions: [{ name: 'web', image: TEST_IMAGE, stopTimeout: 1, command: ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', '/www'] }],
    });
    const t = await agent().waitFor(arn, (x) => x.knownStatus === 'RUNNING');
    ctx.expect(inspect(container(t, 'web').dockerId!).HostConfig.NetworkMode).toBe('host');
    const deadline = Date.now() + 10_000;
    let body = '';
    while (Date.now() < deadline && !body) body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => '');
    ctx.expect(body.trim()).toBe('berth test page');
    await agent().stopTask(arn);
  });

  it('networkMode none: loopback only', async (ctx) => {
    const arn = await post(ctx, 'net-none', {
      networkMode: 'none',
      containerDefinitions: [{ name: 'exit', image: TEST_IMAGE, command: ['sh', '-c', '[ "$(ls /sys/class/net)" = lo ] && exit 42'] }],
    });
    ctx.expect(await exits(arn)).toEqual({ exit: 42 });
  });

  it('dnsSearchDomains are written to resolv.conf', async (ctx) => {
    const arn = await post(ctx, 'dns-search', {
      containerDefinitions: [
        { name: 'exit', image: TEST_IMAGE, dnsSearchDomains: ['a.example', 'b.example'], command: ['sh', '-c', 'grep -qx "search a.example b.example" /etc/resolv.conf && exit 42'] },
      ],
    });
    ctx.expect(await exits(arn)).toEqual({ exit: 42 });
  });

  it("pidMode and ipcMode task: the task's containers share the first container's PID and IPC namespaces", async (ctx) => {
    const arn = await post(ctx, 'ns-task', {
      pidMode: 'task',
      ipcMode: 'task',
      containerDefinitions: [
        { name: 'owner', image: TEST_IMAGE, essential: false, stopTimeout: 1, command: ['sh', '-c', 'echo hi > /dev/shm/token; while true; do sleep 1; done # ns-owner'] },
        {
          name: 'guest',
          image: TEST_IMAGE,
          // The owner's shell, seen as a process; its /dev/shm, seen as a file.
          command: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do ps | grep -v grep | grep -q ns-owner && [ -f /dev/shm/token ] && exit 42; sleep 1; done; exit 1'],
        },
      ],
    });
    const t = await agent().waitStopped(arn);
    ctx.expect(container(t, 'guest').exitCode).toBe(42);
    const owner = container(t, 'owner').dockerId!;
    ctx.expect(inspect(owner).HostConfig).toMatchObject({ IpcMode: 'shareable', PidMode: '' });
    ctx.expect(inspect(container(t, 'guest').dockerId!).HostConfig).toMatchObject({ IpcMode: `container:${owner}`, PidMode: `container:${owner}` });
  });

  it("pidMode and ipcMode host: the container sees the host's PID 1 and uses its IPC namespace", async (ctx) => {
    const hostInit = readFileSync('/proc/1/comm', 'utf8').trim();
    const arn = await post(ctx, 'ns-host', {
      pidMode: 'host',
      ipcMode: 'host',
      containerDefinitions: [
        { name: 'exit', image: TEST_IMAGE, environment: [{ name: 'HOST_INIT', value: hostInit }], command: ['sh', '-c', '[ "$(cat /proc/1/comm)" = "$HOST_INIT" ] && exit 42'] },
      ],
    });
    const t = await agent().waitStopped(arn);
    ctx.expect(container(t, 'exit').exitCode).toBe(42);
    ctx.expect(inspect(container(t, 'exit').dockerId!).HostConfig).toMatchObject({ IpcMode: 'host', PidMode: 'host' });
  });
});

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerSpec } from '../../../src/docker/docker-client.js';
import { DockerodeClient } from '../../../src/docker/dockerode-client.js';
import { ContainerSettingsError } from '../../../src/errors.js';
import { richSpec } from '../../contract/docker-contract-support.js';

/**
 * The proof that ContainerSpec reaches Docker as meant: each setting read back through Docker's
 * own inspect (dockerode directly, not the adapter under test), and the ones a process can see
 * checked from inside the running container.
 */
const IMAGE = process.env.BERTH_TEST_IMAGE ?? '127.0.0.1:5000/berth/busybox:latest';
const RUN_ID = randomBytes(6).toString('hex');
const LABELS = { 'berth.test-run': RUN_ID };
const DOCKER = '/usr/bin/docker';
const MiB = 1024 * 1024;

const client = new DockerodeClient({ socketPath: '/var/run/docker.sock', timeoutMs: 30_000, pullTimeoutMs: 120_000 });
const docker = new Docker({ socketPath: '/var/run/docker.sock' });
let hostDir: string;

function spec(name: string, overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name: `berth-config-${RUN_ID}-${name}`,
    image: IMAGE,
    command: ['sleep', '300'],
    env: { GREETING: 'hi' },
    labels: LABELS,
    portMappings: [],
    stopTimeout: 1,
    ...overrides,
  };
}

function exec(id: string, script: string): string {
  return execFileSync(DOCKER, ['exec', id, 'sh', '-c', script], { encoding: 'utf8', stdio: 'pipe' }).trim();
}

beforeAll(async () => {
  await client.pullImage(IMAGE);
  hostDir = mkdtempSync(join(tmpdir(), 'berth-bind-'));
  // Writable by anyone, the container's user 65534 included: only the read-only bind refuses a write.
  chmodSync(hostDir, 0o777);
  writeFileSync(join(hostDir, 'hello.txt'), 'from the host\n', { mode: 0o644 });
});

afterAll(async () => {
  for (const c of await client.listContainers(LABELS)) {
    await client.stopContainer(c.id, 0);
    await client.removeContainer(c.id);
  }
  for (const v of await client.listVolumes(LABELS)) await client.removeVolume(v.name);
  rmSync(hostDir, { recursive: true, force: true });
});

describe('ContainerSpec as Docker keeps it', () => {
  it('maps every setting of a rich spec to the create body, and the running container shows them', async () => {
    const volume = `berth-config-${RUN_ID}-data`;
    await client.createVolume({ name: volume, labels: LABELS });
    const source = await client.createContainer(spec('source'));
    const target = await client.createContainer(spec('target'));
    await client.startContainer(target);
    const s = spec('rich', {
      ...richSpec(),
      entryPoint: ['/bin/sh', '-c'],
      command: ['exec sleep 300'],
      stopTimeout: 7,
      mounts: [
        { type: 'bind', source: hostDir, target: '/host', readOnly: true },
        { type: 'volume', source: volume, target: '/data', readOnly: false },
      ],
      volumesFrom: [{ container: spec('source').name, readOnly: true }],
      links: [`${spec('target').name}:db`],
    });
    const id = await client.createContainer(s);
    const info = await docker.getContainer(id).inspect();

    expect(info.Config).toMatchObject({
      Image: IMAGE,
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['exec sleep 300'],
      Env: expect.arrayContaining(['GREETING=hi']),
      Labels: LABELS,
      Hostname: 'rich-box',
      User: '65534:65534',
      WorkingDir: '/tmp',
      Tty: true,
      OpenStdin: true,
      StopTimeout: 7,
      Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 1e9, Timeout: 1e9, Retries: 3 },
    });
    expect(info.HostConfig).toMatchObject({
      NetworkMode: 'bridge',
      Dns: ['127.0.0.1'],
      DnsSearch: ['berth.test'],
      ExtraHosts: ['db.berth.test:127.0.0.1'],
      CpuShares: 512,
      Memory: 64 * MiB,
      MemoryReservation: 32 * MiB,
      MemorySwap: 128 * MiB,
      MemorySwappiness: 10,
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
      ReadonlyRootfs: true,
      SecurityOpt: ['no-new-privileges'],
      Sysctls: { 'net.core.somaxconn': '1024' },
      Init: true,
      ShmSize: 32 * MiB,
      Tmpfs: { '/scratch': 'rw,size=16m' },
      CapAdd: ['NET_ADMIN'],
      CapDrop: ['MKNOD'],
      Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/berth-null', CgroupPermissions: 'rwm' }],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } },
      Binds: [`${hostDir}:/host:ro`, `${volume}:/data`],
      VolumesFrom: [`${spec('source').name}:ro`],
    });
    // Docker keeps links resolved to both containers' names.
    expect(info.HostConfig.Links).toEqual([`/${spec('target').name}:/${s.name}/db`]);
    expect(source).toMatch(/^[0-9a-f]{64}$/);

    await client.startContainer(id);
    expect(exec(id, 'hostname')).toBe('rich-box');
    expect(exec(id, 'id -u; id -g')).toBe('65534\n65534');
    expect(exec(id, 'pwd')).toBe('/tmp');
    expect(exec(id, 'cat /proc/sys/net/core/somaxconn')).toBe('1024');
    expect(exec(id, 'ulimit -n; ulimit -Hn')).toBe('1024\n2048');
    expect(exec(id, 'cat /etc/hosts')).toMatch(/127\.0\.0\.1\s+db\.berth\.test/);
    expect(exec(id, 'cat /etc/resolv.conf')).toMatch(/nameserver 127\.0\.0\.1[\s\S]*search berth\.test|search berth\.test[\s\S]*nameserver 127\.0\.0\.1/);
    expect(exec(id, 'grep " /scratch " /proc/mounts')).toContain('size=16384k');
    expect(exec(id, 'grep " /dev/shm " /proc/mounts')).toContain('size=32768k');
    expect(exec(id, 'touch /rootfs-write 2>/dev/null && echo wrote || echo refused')).toBe('refused');
    expect(exec(id, 'cat /host/hello.txt; touch /host/x 2>/dev/null && echo wrote || echo refused')).toBe('from the host\nrefused');
    expect(exec(id, 'cat /proc/1/cmdline | tr "\\0" " "')).toMatch(/^\/sbin\/docker-init|docker-init/);
    expect(exec(id, 'grep NoNewPrivs /proc/self/status')).toMatch(/NoNewPrivs:\s+1/);
    expect(exec(id, 'test -c /dev/berth-null && echo device')).toBe('device');
    expect(exec(id, 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes')).toBe(String(64 * MiB));
    expect(exec(id, 'cat /sys/fs/cgroup/cpu/cpu.shares')).toBe('512');
  });

  it('maps namespace modes, privileged and networking off: container: modes name the other container, host and none as given', async () => {
    // Docker's default IPC mode is private: a container can join only a shareable one.
    const base = await client.createContainer(spec('ns-base', { ipcMode: 'shareable' }));
    await client.startContainer(base);
    const joined = await client.createContainer(
      spec('ns-joined', { networkMode: `container:${base}`, pidMode: `container:${base}`, ipcMode: `container:${base}` }),
    );
    const host = await client.createContainer(spec('ns-host', { networkMode: 'host', pidMode: 'host', ipcMode: 'host', privileged: true }));
    const off = await client.createContainer(spec('ns-off', { networkMode: 'none', networkDisabled: true, ipcMode: 'shareable' }));

    expect((await docker.getContainer(joined).inspect()).HostConfig).toMatchObject({
      NetworkMode: `container:${base}`,
      PidMode: `container:${base}`,
      IpcMode: `container:${base}`,
    });
    expect((await docker.getContainer(host).inspect()).HostConfig).toMatchObject({
      NetworkMode: 'host',
      PidMode: 'host',
      IpcMode: 'host',
      Privileged: true,
    });
    const offInfo = await docker.getContainer(off).inspect();
    expect([(offInfo.Config as { NetworkDisabled?: boolean }).NetworkDisabled, offInfo.HostConfig.NetworkMode, offInfo.HostConfig.IpcMode]).toEqual([true, 'none', 'shareable']);

    await client.startContainer(joined);
    // One PID namespace: the joined container sees the base container's sleep as its PID 1.
    expect(exec(joined, 'cat /proc/1/cmdline | tr "\\0" " "').trim()).toBe('sleep 300');
    expect((await client.inspectContainer(joined)).networks).toBeUndefined();
  });

  it("refuses at start, for good, settings Docker answers with a 500: a user the image lacks, log options the driver cannot use", async () => {
    const unknownUser = await client.createContainer(spec('no-user', { user: 'no-such-user' }));
    const badLog = await client.createContainer(
      spec('bad-log', { logConfig: { type: 'json-file', config: { 'max-size': 'banana' } } }),
    );
    for (const id of [unknownUser, badLog]) {
      const err = await client.startContainer(id).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ContainerSettingsError);
      expect(err).toMatchObject({ operation: 'start', retryable: false });
    }
  });

  it('reads back the port Docker chose for a dynamic host port, and the pid and address of a running container', async () => {
    const id = await client.createContainer(
      spec('ports', { portMappings: [{ containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1' }] }),
    );
    await client.startContainer(id);
    const info = await client.inspectContainer(id);
    const raw = await docker.getContainer(id).inspect();
    const chosen = Number(raw.NetworkSettings.Ports['8080/tcp']![0]!.HostPort);
    expect(chosen).toBeGreaterThan(0);
    expect(info.portBindings).toEqual([{ containerPort: 8080, hostPort: chosen, protocol: 'tcp', hostIp: '127.0.0.1' }]);
    expect(info.pid).toBe(raw.State.Pid);
    expect(info.networks).toEqual({ bridge: { ipAddress: raw.NetworkSettings.Networks.bridge!.IPAddress } });
  });
});

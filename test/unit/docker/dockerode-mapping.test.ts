import { describe, expect, it } from 'vitest';
import { DockerodeClient } from '../../../src/docker/dockerode-client.js';
import { DockerApiError, ImageNotFoundError, NameConflictError, VolumeNotFoundError } from '../../../src/errors.js';
import { bodyOf, json, useStubDaemon } from './stub-daemon.js';

/** How the adapter writes Docker's request bodies and reads its answers, against a stub daemon. */
const daemon = useStubDaemon();
const client = (): DockerodeClient => daemon.client();

describe('DockerodeClient wire format', () => {
  it('sends the create body Docker expects and maps 409 and 404-image', async () => {
    let body: Record<string, unknown> = {};
    let query = '';
    daemon.handler = (req, res, url) => {
      query = url.search;
      void bodyOf(req).then((received) => {
        body = received;
        if (url.searchParams.get('name') === 'taken') json(res, 409, { message: 'Conflict. The container name "/taken" is already in use' });
        else if (url.searchParams.get('name') === 'noimage') json(res, 404, { message: 'No such image: app:1' });
        else json(res, 201, { Id: 'f'.repeat(64), Warnings: [] });
      });
    };
    const spec = {
      name: 'web',
      image: 'app:1',
      command: ['serve', '--port', '8080'],
      entryPoint: ['/bin/run'],
      env: { A: '1', B: 'x=y' },
      labels: { app: 'web' },
      portMappings: [
        { containerPort: 8080, protocol: 'tcp' as const, hostIp: '127.0.0.1' },
        { containerPort: 53, hostPort: 5353, protocol: 'udp' as const, hostIp: '0.0.0.0' },
      ],
      stopTimeout: 7,
    };
    await expect(client().createContainer(spec)).resolves.toBe('f'.repeat(64));
    expect(new URLSearchParams(query).get('name')).toBe('web');
    expect(body).toMatchObject({
      Image: 'app:1',
      Cmd: ['serve', '--port', '8080'],
      Entrypoint: ['/bin/run'],
      Env: ['A=1', 'B=x=y'],
      Labels: { app: 'web' },
      StopTimeout: 7,
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
      HostConfig: {
        PortBindings: {
          '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
          '53/udp': [{ HostIp: '0.0.0.0', HostPort: '5353' }],
        },
      },
    });
    await expect(client().createContainer({ ...spec, name: 'taken' })).rejects.toBeInstanceOf(NameConflictError);
    await expect(client().createContainer({ ...spec, name: 'noimage' })).rejects.toBeInstanceOf(ImageNotFoundError);
  });

  it('sends every optional spec setting under its Docker name, durations in nanoseconds, and leaves absent ones out', async () => {
    const bodies: Array<Record<string, unknown>> = [];
    daemon.handler = (req, res) => {
      void bodyOf(req).then((received) => {
        bodies.push(received);
        json(res, 201, { Id: 'f'.repeat(64), Warnings: [] });
      });
    };
    const base = { name: 'rich', image: 'app:1', env: {}, labels: {}, portMappings: [], stopTimeout: 5 };
    await client().createContainer({
      ...base,
      healthCheck: { test: ['CMD', 'check'], intervalMs: 1_500, timeoutMs: 250, retries: 4, startPeriodMs: 10_000 },
      hostname: 'h',
      user: '1000:1000',
      workingDir: '/w',
      tty: true,
      openStdin: true,
      networkDisabled: false,
      networkMode: 'container:db',
      pidMode: 'host',
      ipcMode: 'shareable',
      links: ['db:database'],
      mounts: [
        { type: 'bind', source: '/srv/data', target: '/data', readOnly: true },
        { type: 'volume', source: 'cache', target: '/cache', readOnly: false },
      ],
      volumesFrom: [
        { container: 'a', readOnly: true },
        { container: 'b', readOnly: false },
      ],
      dns: ['10.0.0.2'],
      dnsSearch: ['example.test'],
      extraHosts: ['db:10.0.0.3'],
      cpuShares: 2,
      memoryBytes: 6 * 1024 * 1024,
      memoryReservationBytes: 1024,
      memorySwapBytes: -1,
      memorySwappiness: 0,
      ulimits: [{ name: 'nofile', soft: 10, hard: 20 }],
      readonlyRootfs: true,
      privileged: true,
      securityOpt: ['no-new-privileges'],
      sysctls: { 'net.core.somaxconn': '511' },
      init: true,
      shmSizeBytes: 4096,
      tmpfs: { '/run': 'size=64m,rw' },
      capAdd: ['SYS_PTRACE'],
      capDrop: ['ALL'],
      devices: [{ hostPath: '/dev/fuse', containerPath: '/dev/fuse', permissions: 'rw' }],
      logConfig: { type: 'json-file', config: { 'max-size': '10m' } },
    });
    expect(bodies[0]).toMatchObject({
      Hostname: 'h',
      User: '1000:1000',
      WorkingDir: '/w',
      Tty: true,
      OpenStdin: true,
      NetworkDisabled: false,
      StopTimeout: 5,
      Healthcheck: { Test: ['CMD', 'check'], Interval: 1_500_000_000, Timeout: 250_000_000, Retries: 4, StartPeriod: 10_000_000_000 },
      HostConfig: {
        NetworkMode: 'container:db',
        PidMode: 'host',
        IpcMode: 'shareable',
        Links: ['db:database'],
        Binds: ['/srv/data:/data:ro', 'cache:/cache'],
        VolumesFrom: ['a:ro', 'b:rw'],
        Dns: ['10.0.0.2'],
        DnsSearch: ['example.test'],
        ExtraHosts: ['db:10.0.0.3'],
        CpuShares: 2,
        Memory: 6 * 1024 * 1024,
        MemoryReservation: 1024,
        MemorySwap: -1,
        MemorySwappiness: 0,
        Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 20 }],
        ReadonlyRootfs: true,
        Privileged: true,
        SecurityOpt: ['no-new-privileges'],
        Sysctls: { 'net.core.somaxconn': '511' },
        Init: true,
        ShmSize: 4096,
        Tmpfs: { '/run': 'size=64m,rw' },
        CapAdd: ['SYS_PTRACE'],
        CapDrop: ['ALL'],
        Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rw' }],
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m' } },
      },
    });

    await client().createContainer(base);
    const plain = bodies[1]!;
    for (const key of ['Hostname', 'User', 'WorkingDir', 'Tty', 'OpenStdin', 'NetworkDisabled', 'Healthcheck']) {
      expect(plain, key).not.toHaveProperty(key);
    }
    expect(Object.keys(plain.HostConfig as object)).toEqual(['PortBindings']);
  });

  it('maps volumes: create answers the inspected volume, 404 on inspect is VolumeNotFoundError, on remove done, 409 stays', async () => {
    const seen: string[] = [];
    const volume = { Name: 'data', Driver: 'local', Labels: { app: 'web' }, Mountpoint: '/var/lib/docker/volumes/data/_data', Options: null, Scope: 'local' };
    daemon.handler = (req, res, url) => {
      seen.push(`${req.method} ${url.pathname}${url.search}`);
      if (url.pathname.endsWith('/volumes/create')) return json(res, 201, volume);
      if (url.pathname.endsWith('/volumes/data')) return req.method === 'DELETE' ? json(res, 409, { message: 'remove data: volume is in use - [abc]' }) : json(res, 200, volume);
      if (url.pathname.endsWith('/volumes')) return json(res, 200, { Volumes: [volume, { ...volume, Name: 'other', Labels: null }], Warnings: null });
      return json(res, 404, { message: 'get gone: no such volume' });
    };
    const info = { name: 'data', driver: 'local', driverOpts: {}, labels: { app: 'web' }, mountpoint: '/var/lib/docker/volumes/data/_data' };
    expect(await client().createVolume({ name: 'data', labels: { app: 'web' } })).toEqual(info);
    expect(await client().inspectVolume('data')).toEqual(info);
    await expect(client().inspectVolume('gone')).rejects.toBeInstanceOf(VolumeNotFoundError);
    await expect(client().removeVolume('gone')).resolves.toBeUndefined();
    const inUse = await client().removeVolume('data').catch((e: unknown) => e);
    expect(inUse).toBeInstanceOf(DockerApiError);
    expect(inUse).toMatchObject({ statusCode: 409, retryable: false });
    // Docker's label filter is trusted only as far as the labels it answers with.
    expect(await client().listVolumes({ app: 'web' })).toEqual([info]);
    const list = seen.find((line) => line.startsWith('GET /volumes?'))!;
    expect(JSON.parse(new URLSearchParams(list.slice(list.indexOf('?'))).get('filters')!)).toEqual({ label: ['app=web'] });
  });

  it('maps health, pid and networks from inspect, and leaves them out when Docker has none', async () => {
    const base = { Id: 'a'.repeat(64), Name: '/web', Created: '2024-05-01T10:00:00Z', Config: { Image: 'app:1', Labels: {} } };
    daemon.handler = (_req, res, url) =>
      url.pathname.includes('/healthy/')
        ? json(res, 200, {
            ...base,
            State: { Status: 'running', Pid: 4242, Health: { Status: 'healthy', FailingStreak: 0, Log: [] } },
            NetworkSettings: { Ports: {}, Networks: { bridge: { IPAddress: '172.17.0.5' }, backend: { IPAddress: '' } } },
          })
        : json(res, 200, { ...base, State: { Status: 'exited', Pid: 0, ExitCode: 0 }, NetworkSettings: { Ports: {}, Networks: {} } });
    expect(await client().inspectContainer('healthy')).toMatchObject({
      health: 'healthy',
      pid: 4242,
      networks: { bridge: { ipAddress: '172.17.0.5' }, backend: {} },
    });
    const plain = await client().inspectContainer('plain');
    expect([plain.health, plain.pid, plain.networks]).toEqual([undefined, undefined, undefined]);
  });

  it('maps inspect: zero times absent, exit code only once stopped, host ports as numbers', async () => {
    const base = {
      Id: 'a'.repeat(64),
      Name: '/web',
      Created: '2024-05-01T10:00:00.123456789Z',
      Config: { Image: 'app:1', Labels: { app: 'web' } },
    };
    daemon.handler = (_req, res, url) =>
      url.pathname.includes('/running/')
        ? json(res, 200, {
            ...base,
            State: { Status: 'running', ExitCode: 0, OOMKilled: false, StartedAt: '2024-05-01T10:00:01Z', FinishedAt: '0001-01-01T00:00:00Z' },
            NetworkSettings: { Ports: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '49153' }], '9000/tcp': null } },
          })
        : json(res, 200, {
            ...base,
            State: { Status: 'exited', ExitCode: 137, OOMKilled: true, StartedAt: '2024-05-01T10:00:01Z', FinishedAt: '2024-05-01T10:00:02Z' },
            NetworkSettings: { Ports: {} },
          });
    expect(await client().inspectContainer('running')).toEqual({
      id: 'a'.repeat(64),
      name: 'web',
      image: 'app:1',
      state: 'running',
      oomKilled: false,
      labels: { app: 'web' },
      portBindings: [{ containerPort: 8080, hostPort: 49153, protocol: 'tcp', hostIp: '127.0.0.1' }],
      createdAt: Date.parse('2024-05-01T10:00:00.123Z'),
      startedAt: Date.parse('2024-05-01T10:00:01Z'),
    });
    expect(await client().inspectContainer('exited')).toMatchObject({
      state: 'exited',
      exitCode: 137,
      oomKilled: true,
      portBindings: [],
      finishedAt: Date.parse('2024-05-01T10:00:02Z'),
    });
  });
});

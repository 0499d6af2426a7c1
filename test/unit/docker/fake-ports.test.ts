import { describe, expect, it } from 'vitest';
import type { PortMapping } from '../../../src/api/task.js';
import { PortConflictError } from '../../../src/errors.js';
import { FakePorts } from '../../../src/docker/fake-ports.js';
import type { ContainerSpec } from '../../../src/docker/docker-client.js';

let n = 0;
function container(portMappings: PortMapping[], networkMode?: string) {
  n++;
  return { id: `id${n}`, name: `c${n}`, spec: { name: `c${n}`, image: 'i', labels: {}, portMappings, ...(networkMode ? { networkMode } : {}) } as unknown as ContainerSpec };
}
const dynamic = (hostIp = '127.0.0.1', protocol: 'tcp' | 'udp' = 'tcp'): PortMapping => ({ containerPort: 80, protocol, hostIp });

describe('FakePorts: the lowest free dynamic port, without looking at every port held', () => {
  it('gives the lowest free port from 32768, reuses freed ones lowest first, and keeps addresses and protocols apart', () => {
    const ports = new FakePorts();
    const held = Array.from({ length: 5 }, () => ports.bind(container([dynamic()])));
    expect(held.map((b) => b[0]!.hostPort)).toEqual([32768, 32769, 32770, 32771, 32772]);
    ports.release(held[3]!);
    ports.release(held[1]!);
    expect(ports.bind(container([dynamic()]))[0]!.hostPort).toBe(32769);
    expect(ports.bind(container([dynamic()]))[0]!.hostPort).toBe(32771);
    expect(ports.bind(container([dynamic()]))[0]!.hostPort).toBe(32773);
    // Another address is free where 127.0.0.1 is taken; any address clashes with every one; udp is apart.
    expect(ports.bind(container([dynamic('127.0.0.2')]))[0]!.hostPort).toBe(32768);
    expect(ports.bind(container([dynamic('0.0.0.0')]))[0]!.hostPort).toBe(32774);
    expect(ports.bind(container([dynamic('127.0.0.1', 'udp')]))[0]!.hostPort).toBe(32768);
  });

  it('a port freed by an any-address binding is free again for a specific address below its cursor', () => {
    const ports = new FakePorts();
    const any = ports.bind(container([dynamic('0.0.0.0')]));
    expect(ports.bind(container([dynamic('127.0.0.1')]))[0]!.hostPort).toBe(32769);
    ports.release(any);
    expect(ports.bind(container([dynamic('127.0.0.1')]))[0]!.hostPort).toBe(32768);
  });

  it('a static conflict holds nothing of the starting container, and host or none networks publish nothing', () => {
    const ports = new FakePorts();
    ports.bind(container([{ ...dynamic(), hostPort: 32769 }]));
    const failing = container([dynamic(), { ...dynamic(), hostPort: 32769 }]);
    expect(() => ports.bind(failing)).toThrow(PortConflictError);
    // The dynamic port the failed start had taken is free again.
    expect(ports.bind(container([dynamic()]))[0]!.hostPort).toBe(32768);
    expect(ports.bind(container([dynamic()]))[0]!.hostPort).toBe(32770);
    expect(ports.bind(container([dynamic()], 'host'))).toEqual([]);
  });

  it('costs the same per start with 10 or 10,000 ports held', () => {
    const costOfNext = (held: number): number => {
      const ports = new FakePorts();
      for (let i = 0; i < held; i++) ports.bind(container([dynamic()]));
      const before = ports.work;
      ports.bind(container([dynamic()]));
      return ports.work - before;
    };
    expect(costOfNext(10_000)).toBe(costOfNext(10));
  });
});

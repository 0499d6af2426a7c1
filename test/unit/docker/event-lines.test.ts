import { describe, expect, it } from 'vitest';
import { LineSplitter, dockerSinceAfter, ndjsonLines, parseEventLine, parseNetworkEventLine } from '../../../src/docker/event-lines.js';

async function collect(chunks: Array<Buffer | string>): Promise<string[]> {
  async function* source(): AsyncGenerator<Buffer | string> {
    yield* chunks;
  }
  const lines: string[] = [];
  for await (const line of ndjsonLines(source())) lines.push(line);
  return lines;
}

describe('ndjsonLines', () => {
  it('joins a line split across chunks and splits several lines in one chunk', async () => {
    expect(await collect(['{"a":', '1}\n{"b":2}\n{"c"', ':3}\n'])).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('keeps a multi-byte character whose bytes straddle two chunks', async () => {
    const bytes = Buffer.from('{"label":"héllo ✓"}\n');
    const cut = bytes.indexOf(0xe2) + 1; // inside the three bytes of ✓
    expect(await collect([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(['{"label":"héllo ✓"}']);
  });

  it('drops blank lines and CRs, and yields a last line that has no newline', async () => {
    expect(await collect(['\n\r\n{"a":1}\r\n', '\n', '{"b":2}'])).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('handles one byte at a time', async () => {
    const text = '{"x":1}\n{"y":2}\n';
    expect(await collect([...Buffer.from(text)].map((b) => Buffer.from([b])))).toEqual(['{"x":1}', '{"y":2}']);
  });

  it('LineSplitter returns lines as they complete', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('ab')).toEqual([]);
    expect(splitter.push('c\nd')).toEqual(['abc']);
    expect(splitter.end()).toEqual(['d']);
    expect(splitter.end()).toEqual([]);
  });
});

const DIE_LINE =
  '{"status":"die","id":"abc123","from":"busybox","Type":"container","Action":"die",' +
  '"Actor":{"ID":"abc123","Attributes":{"berth.task-arn":"arn:1","exitCode":"3","image":"busybox","name":"web"}},' +
  '"scope":"local","time":1700000000,"timeNano":1700000000123456789}';

describe('parseEventLine', () => {
  it('maps a die event, keeping timeNano exact and only the labels from the attributes', () => {
    expect(parseEventLine(DIE_LINE)).toEqual({
      dockerId: 'abc123',
      action: 'die',
      exitCode: 3,
      labels: { 'berth.task-arn': 'arn:1' },
      timeNano: '1700000000123456789',
    });
  });

  it('reads health_status with the status after the colon, as health', () => {
    for (const health of ['healthy', 'unhealthy'] as const) {
      const line = DIE_LINE.replace('"Action":"die"', `"Action":"health_status: ${health}"`).replace('"exitCode":"3",', '');
      expect(parseEventLine(line)).toEqual({
        dockerId: 'abc123',
        action: 'health_status',
        health,
        labels: { 'berth.task-arn': 'arn:1' },
        timeNano: '1700000000123456789',
      });
    }
  });

  it('drops the exec events Docker sends for every health probe', () => {
    for (const action of ['exec_create: /bin/sh -c true', 'exec_start: /bin/sh -c true', 'exec_die']) {
      const line = DIE_LINE.replace('"Action":"die"', `"Action":"${action}"`).replace('"exitCode":"3",', '"exitCode":"0","execID":"e1",');
      expect(parseEventLine(line)).toBeUndefined();
    }
  });

  it('is not fooled by a label value that looks like a timeNano field', () => {
    const line = DIE_LINE.replace('"name":"web"', '"name":"web","trap":"\\"timeNano\\":1"');
    expect(parseEventLine(line)?.timeNano).toBe('1700000000123456789');
  });

  it('falls back to whole seconds when timeNano is missing', () => {
    expect(parseEventLine(DIE_LINE.replace(',"timeNano":1700000000123456789', ''))?.timeNano).toBe('1700000000000000000');
  });

  it('ignores lines it cannot use', () => {
    expect(parseEventLine('not json')).toBeUndefined();
    expect(parseEventLine('null')).toBeUndefined();
    expect(parseEventLine(DIE_LINE.replace('"Type":"container"', '"Type":"network"'))).toBeUndefined();
    expect(parseEventLine('{"Type":"container","Action":"die","timeNano":1}')).toBeUndefined();
  });
});

describe('dockerSinceAfter', () => {
  it("formats the next nanosecond as Docker's seconds.nanoseconds, fraction padded to nine digits", () => {
    expect(dockerSinceAfter('1700000000123456789')).toBe('1700000000.123456790');
    expect(dockerSinceAfter('1700000000000000041')).toBe('1700000000.000000042');
    expect(dockerSinceAfter('1700000000999999999')).toBe('1700000001.000000000');
  });

  it('rejects anything but a decimal integer', () => {
    expect(() => dockerSinceAfter('1.5')).toThrow(RangeError);
    expect(() => dockerSinceAfter('')).toThrow(RangeError);
  });
});

describe('parseNetworkEventLine', () => {
  const line = (action: string, attributes: Record<string, string>, type = 'network'): string =>
    `{"Type":"${type}","Action":"${action}","Actor":{"ID":"7d86e3bd","Attributes":${JSON.stringify(attributes)}},"scope":"local","time":1764669000,"timeNano":1764669000123456789}`;

  it('reads a connect or disconnect as the container, the network name and the exact timeNano', () => {
    expect(parseNetworkEventLine(line('connect', { container: 'abc123', name: 'backend', type: 'bridge' }))).toEqual({
      dockerId: 'abc123',
      action: 'connect',
      network: 'backend',
      timeNano: '1764669000123456789',
    });
    expect(parseNetworkEventLine(line('disconnect', { container: 'abc123', name: 'bridge', type: 'bridge' }))?.action).toBe('disconnect');
  });

  it('ignores other network actions, other types, and lines without a container', () => {
    expect(parseNetworkEventLine(line('create', { name: 'backend', type: 'bridge' }))).toBeUndefined();
    expect(parseNetworkEventLine(line('connect', { name: 'backend' }))).toBeUndefined();
    expect(parseNetworkEventLine(line('connect', { container: 'abc', name: 'backend' }, 'container'))).toBeUndefined();
    expect(parseNetworkEventLine('not json')).toBeUndefined();
  });
});

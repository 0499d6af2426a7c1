import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContainerSpec, DockerClient, LogOptions } from '../../src/docker/docker-client.js';
import { logLines, type LogLine } from '../../src/docker/log-lines.js';
import { ContainerNotFoundError } from '../../src/errors.js';

export interface LogsContractSetup {
  readonly client: DockerClient;
  readonly image: string;
  readonly labels: Record<string, string>;
  /**
   * Starts a container that writes `first` to stdout and `oops` to stderr, then waits; `farewell`
   * makes it write `bye` to stdout and exit (on real Docker: SIGTERM to its trap).
   */
  start(spec: ContainerSpec): Promise<{ id: string; farewell(): Promise<void> }>;
  cleanup(): Promise<void>;
}

/** What every LogsClient must do, against the fake (unit) and dockerode on real Docker (integration). */
export function describeLogsContract(name: string, setup: () => LogsContractSetup): void {
  describe(`LogsClient contract: ${name}`, () => {
    const env = setup();
    const run = randomBytes(4).toString('hex');
    let count = 0;
    afterAll(() => env.cleanup());

    const spec = (overrides: Partial<ContainerSpec> = {}): ContainerSpec => ({
      name: `berth-logs-${run}-${++count}`,
      image: env.image,
      env: {},
      labels: env.labels,
      portMappings: [],
      stopTimeout: 10,
      ...overrides,
    });
    const read = async (id: string, options: Partial<LogOptions> = {}): Promise<LogLine[]> => {
      const lines: LogLine[] = [];
      const all = { follow: false, timestamps: false, signal: new AbortController().signal, ...options };
      for await (const l of logLines(env.client.containerLogs(id, all), all.timestamps)) lines.push(l);
      return lines;
    };
    const untilLines = async (id: string, n: number): Promise<LogLine[]> => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const lines = await read(id);
        if (lines.length >= n || Date.now() > deadline) return lines;
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    it('reads stdout and stderr apart, the last N, with times; follows across the exit; the stopped container stays readable', async () => {
      const c = await env.start(spec());
      const backlog = await untilLines(c.id, 2);
      expect(backlog).toEqual(expect.arrayContaining([{ stream: 'stdout', line: 'first' }, { stream: 'stderr', line: 'oops' }]));
      expect(await read(c.id, { tail: 1 })).toHaveLength(1);
      const stamped = await read(c.id, { timestamps: true });
      for (const l of stamped) expect(Math.abs(Date.parse(l.time!) - Date.now())).toBeLessThan(60_000);
      expect(await read(c.id, { sinceMs: Date.now() + 60_000 })).toEqual([]);

      const followed: LogLine[] = [];
      let opened = false;
      const follow = (async () => {
        const o = { follow: true, timestamps: false, signal: new AbortController().signal, onOpen: () => (opened = true) };
        for await (const l of logLines(env.client.containerLogs(c.id, o), false)) followed.push(l);
      })();
      while (!opened || followed.length < 2) await new Promise((r) => setTimeout(r, 20));
      await c.farewell();
      await follow;
      expect(followed.at(-1)).toEqual({ stream: 'stdout', line: 'bye' });
      expect(await read(c.id, { follow: true })).toHaveLength(3);
    });

    it('ends a follow when its signal aborts, and refuses an unknown container with ContainerNotFoundError', async () => {
      const c = await env.start(spec());
      await untilLines(c.id, 2);
      const abort = new AbortController();
      let opened = false;
      const follow = (async () => {
        for await (const _ of env.client.containerLogs(c.id, { follow: true, timestamps: false, signal: abort.signal, onOpen: () => (opened = true) })) void _;
      })();
      while (!opened) await new Promise((r) => setTimeout(r, 20));
      abort.abort();
      await expect(follow).resolves.toBeUndefined();
      await expect(read(`berth-logs-${run}-missing`)).rejects.toBeInstanceOf(ContainerNotFoundError);
      await c.farewell();
    });
  });
}

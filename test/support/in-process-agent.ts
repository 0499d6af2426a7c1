import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../../src/agent.js';
import type { TaskView } from '../../src/api/view.js';
import { resolveConfig, type AgentConfig, type ConfigFlags } from '../../src/config/config.js';
import { ControlClient } from '../../src/control/client.js';
import { FakeDocker } from '../../src/docker/fake-docker.js';
import { silentLogger } from '../../src/log/logger.js';
import { MemorySaver } from '../../src/state/memory-saver.js';
import type { Saver } from '../../src/state/saver.js';
import { IMAGE } from './fixtures.js';

/** The whole agent in this process, on the fake Docker, serving a real socket in a temp dir. */
export class InProcessAgent {
  readonly dir = mkdtempSync(join(tmpdir(), 'berth-agent-'));
  readonly docker: FakeDocker;
  readonly saver: Saver;
  config!: AgentConfig;
  agent: RunningAgent | undefined;
  client!: ControlClient;

  constructor(options: { docker?: FakeDocker; saver?: Saver } = {}) {
    this.docker = options.docker ?? new FakeDocker({ images: [IMAGE] });
    this.saver = options.saver ?? new MemorySaver();
  }

  async start(flags: ConfigFlags = {}, overrides: Partial<AgentConfig> = {}): Promise<this> {
    this.config = { ...resolveConfig({ dataDir: join(this.dir, 'data'), ...flags }, { env: {}, uid: 1000, home: this.dir }), ...overrides };
    this.agent = await startAgent({ config: this.config, docker: this.docker, saver: this.saver, log: silentLogger(), defaultMetrics: false });
    this.client = new ControlClient(this.config.socketPath, 10_000);
    return this;
  }

  async stop(): Promise<void> {
    await this.agent?.close();
    this.agent = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async untilStatus(arn: string, status: string, ms = 5_000): Promise<TaskView> {
    const deadline = Date.now() + ms;
    for (;;) {
      const res = await this.client.get<TaskView>(`/v1/tasks?taskarn=${encodeURIComponent(arn)}`);
      if (res.status === 200 && res.body.knownStatus === status) return res.body;
      if (Date.now() > deadline) throw new Error(`${arn} did not reach ${status} in ${ms} ms: ${JSON.stringify(res.body)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export function taskBody(arn: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    arn,
    family: 'api',
    version: 3,
    containers: [{ name: 'web', image: IMAGE, command: ['sleep', '300'], portMappings: [{ containerPort: 80 }] }],
    ...extra,
  };
}

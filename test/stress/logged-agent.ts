import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { startAgent, type RunningAgent } from '../../src/agent.js';
import { resolveConfig, type AgentConfig, type HttpLimits } from '../../src/config/config.js';
import { ControlClient } from '../../src/control/client.js';
import { FakeDocker } from '../../src/docker/fake-docker.js';
import { openSqliteSaver } from '../../src/state/sqlite-saver.js';
import { IMAGE } from '../support/fixtures.js';

export interface LogEntry {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

/** Keeps every log entry in memory (winston hands whole entries to an object-mode stream). */
function memoryStream(entries: LogEntry[]): Writable {
  return new Writable({
    objectMode: true,
    write(entry: LogEntry, _encoding, done) {
      entries.push(entry);
      done();
    },
  });
}

/**
 * Like InProcessAgent (the whole agent on the fake Docker, its real socket in a temp dir), but on
 * a real SQLite file and with its log kept: a request that failed inside the agent after the client
 * hung up is invisible on the socket and shows only as a logged error.
 */
export class LoggedAgent {
  readonly dir: string;
  readonly docker = new FakeDocker({ images: [IMAGE] });
  readonly log: LogEntry[] = [];
  config!: AgentConfig;
  agent!: RunningAgent;
  client!: ControlClient;

  /** `baseDir`: where the temp dir (socket, database) goes; the system temp dir by default. */
  constructor(baseDir: string = tmpdir()) {
    this.dir = mkdtempSync(join(baseDir, 'berth-stress-'));
  }

  async start(http: Partial<HttpLimits> = {}): Promise<this> {
    const base = resolveConfig({ dataDir: join(this.dir, 'data') }, { env: {}, uid: 1000, home: this.dir });
    this.config = { ...base, http: { ...base.http, ...http } };
    const logger = winston.createLogger({ level: 'info', transports: [new winston.transports.Stream({ stream: memoryStream(this.log) })] });
    this.agent = await startAgent({
      config: this.config,
      docker: this.docker,
      saver: openSqliteSaver(this.config.databasePath),
      log: logger,
      defaultMetrics: false,
    });
    this.client = new ControlClient(this.config.socketPath, 10_000);
    return this;
  }

  errors(): LogEntry[] {
    return this.log.filter((e) => e.level === 'error');
  }

  async dispose(): Promise<void> {
    await this.agent?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

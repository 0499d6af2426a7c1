import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../src/agent.js';
import { resolveConfig, type AgentConfig } from '../src/config/config.js';
import { FakeDocker } from '../src/docker/fake-docker.js';
import { silentLogger } from '../src/log/logger.js';
import { openSqliteSaver } from '../src/state/sqlite-saver.js';
import { IMAGE } from '../test/support/fixtures.js';

/** An agent on the fake Docker, saving to a real SQLite file under `dir`, as the benchmarks run it. */
export async function fakeDockerAgent(dir: string, overrides: Partial<AgentConfig> = {}): Promise<{ agent: RunningAgent; config: AgentConfig }> {
  const config = { ...resolveConfig({ dataDir: join(dir, 'data') }, { env: {}, uid: 1000, home: dir }), ...overrides };
  const agent = await startAgent({
    config,
    docker: new FakeDocker({ images: [IMAGE] }),
    saver: openSqliteSaver(config.databasePath),
    log: silentLogger(),
    defaultMetrics: false,
  });
  return { agent, config };
}

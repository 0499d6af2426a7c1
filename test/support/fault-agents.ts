import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach } from 'vitest';
import { AgentProcess, docker, removeContainersOf } from './agent-process.js';

/** How long a SIGTERMed agent may take to exit at clean-up before it is SIGKILLed. */
const TERM_GRACE_MS = 15_000;

/** An agent process that remembers the agent ID it served under, for the clean-up to find its containers. */
export class FaultAgent extends AgentProcess {
  /** '' until the agent has served once. */
  agentId = '';

  override async start(options: { healthy?: boolean } = {}): Promise<void> {
    await super.start(options);
    if (!this.agentId) this.agentId = (await this.client.get<{ agentId: string }>('/v1/metadata')).body.agentId;
  }
}

/**
 * The fault tests' one set-up: every agent a test makes comes from here and is tracked, and after
 * each test every one of them is stopped (SIGTERM, then SIGKILL after a grace), its containers
 * are removed and its data directory deleted. The clean-up then checks that no container of those
 * agents is left, so a test cannot leak an agent or a container into the next. Call at the top
 * level of a test file.
 */
export function useFaultAgents(name: string): FaultAgents {
  const faults = new FaultAgents(mkdtempSync(join(tmpdir(), `berth-${name}-`)));
  afterEach(() => faults.cleanUp());
  afterAll(() => rmSync(faults.root, { recursive: true, force: true }));
  return faults;
}

export class FaultAgents {
  private agents: FaultAgent[] = [];
  private filters: string[] = [];
  private deferred: Array<() => void | Promise<void>> = [];

  constructor(
    /** Where agents' data directories go unless a test names its own. */
    readonly root: string,
  ) {}

  /** A tracked agent (not started) with its data directory `name` under the root, or at `options.dataDir`. */
  agent(name: string, args: readonly string[] = [], options: { dataDir?: string; env?: NodeJS.ProcessEnv } = {}): FaultAgent {
    const agent = new FaultAgent(options.dataDir ?? join(this.root, name), args, options.env);
    this.agents.push(agent);
    return agent;
  }

  /** A tracked agent, started and serving (see AgentProcess.start). */
  async started(name: string, args: readonly string[] = [], options: { dataDir?: string; env?: NodeJS.ProcessEnv; healthy?: boolean } = {}): Promise<FaultAgent> {
    const agent = this.agent(name, args, options);
    await agent.start(options.healthy === undefined ? {} : { healthy: options.healthy });
    return agent;
  }

  /** Containers made behind the agents' backs, by `docker ps --filter` (e.g. `name=…`, `label=…`), also removed at clean-up. */
  alsoRemove(...filters: string[]): void {
    this.filters.push(...filters);
  }

  /** Something else the test started (a watcher process, say), ended at clean-up before the agents are stopped. */
  defer(end: () => void | Promise<void>): void {
    this.deferred.push(end);
  }

  /** Stops every tracked agent, removes their containers and data directories, and fails if a container survived. */
  async cleanUp(): Promise<void> {
    const agents = this.agents;
    const filters = this.filters;
    const deferred = this.deferred;
    this.agents = [];
    this.filters = [];
    this.deferred = [];
    for (const end of deferred) await end();
    await Promise.all(agents.map((a) => end(a)));
    for (const a of agents) removeContainersOf(a.agentId);
    for (const f of filters) removeMatching(f);
    for (const a of agents) rmSync(a.dataDir, { recursive: true, force: true });
    const left = [...agents.filter((a) => a.agentId).map((a) => `label=berth.agent-id=${a.agentId}`), ...filters].filter((f) => matching(f).length > 0);
    if (left.length > 0) throw new Error(`containers left after the test's clean-up: ${left.join(', ')}`);
  }
}

/** SIGTERM, and SIGKILL if the agent has not exited within the grace. */
async function end(agent: AgentProcess): Promise<void> {
  const exited = agent.stop('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), TERM_GRACE_MS)));
  if ((await Promise.race([exited, late])) === 'late') await agent.stop('SIGKILL');
  clearTimeout(timer);
}

const matching = (filter: string): string[] => docker('ps', '-aq', '--filter', filter).split('\n').filter(Boolean);

function removeMatching(filter: string): void {
  for (const id of matching(filter)) docker('rm', '-f', id);
}

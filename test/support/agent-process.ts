import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ControlClient } from '../../src/control/client.js';
import type { TaskView } from '../../src/api/view.js';

const ROOT = new URL('../../', import.meta.url).pathname;
export const AGENT_BIN = join(ROOT, 'dist/cli/main.js');

/** The built agent (`npm run build`), run as a real child process, as an operator would run it. */
export class AgentProcess {
  readonly client: ControlClient;
  /** Node's own options for the next launch (e.g. clockAhead). */
  nodeArgs: readonly string[] = [];
  private proc: ChildProcess | undefined;
  private output = '';

  constructor(
    readonly dataDir: string,
    private readonly args: readonly string[] = [],
    /** The agent's environment; default: this process's. */
    private readonly env?: NodeJS.ProcessEnv,
  ) {
    this.client = new ControlClient(join(dataDir, 'agent.sock'), 30_000);
  }

  /** Spawns the agent without waiting for it: a kill may then land anywhere in its start-up. */
  launch(): ChildProcess {
    const proc = spawn(process.execPath, [...this.nodeArgs, AGENT_BIN, 'run', '--data-dir', this.dataDir, '--log-format', 'text', '--log-level', 'debug', ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(this.env ? { env: this.env } : {}),
    });
    this.proc = proc;
    proc.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    return proc;
  }

  /** Starts the agent and waits until it serves; `healthy: false` accepts a 503 health (Docker down). */
  async start(options: { healthy?: boolean } = {}): Promise<void> {
    const served = options.healthy === false ? [200, 503] : [200];
    const proc = this.launch();
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`agent exited with ${proc.exitCode}:\n${this.output}`);
      try {
        if (served.includes((await this.client.get('/v1/health')).status)) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`agent did not serve its socket within 20 s:\n${this.output}`);
  }

  /** Sends `signal` and waits for the process to end. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return proc?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill(signal);
    return exited;
  }

  log(): string {
    return this.output;
  }

  /** Waits for a log line matching `pattern`: the log comes through a pipe, behind the socket's answers. */
  async waitForLog(pattern: RegExp, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pattern.test(this.output)) {
      if (Date.now() > deadline) throw new Error(`no log line matched ${pattern} within ${ms} ms\n--- agent log ---\n${this.output.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async task(arn: string): Promise<TaskView | undefined> {
    const res = await this.client.get<TaskView>(`/v1/tasks?taskarn=${encodeURIComponent(arn)}`);
    return res.status === 200 ? res.body : undefined;
  }

  /** Polls the task until `predicate` holds; fails with the task and the agent's log after `ms`. */
  async waitForTask(arn: string, predicate: (t: TaskView | undefined) => boolean, ms = 60_000): Promise<TaskView | undefined> {
    const deadline = Date.now() + ms;
    let last: TaskView | undefined;
    while (Date.now() < deadline) {
      last = await this.task(arn);
      if (predicate(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`task ${arn} did not reach the expected state in ${ms} ms; last: ${JSON.stringify(last, null, 1)}\n--- agent log ---\n${this.output.slice(-4000)}`);
  }
}

/** Node options that run the agent with its wall clock `ms` ahead of the host's (test/support/clock-ahead.mjs). */
export function clockAhead(ms: number): string[] {
  return ['--import', `${pathToFileURL(join(ROOT, 'test/support/clock-ahead.mjs')).href}?ms=${ms}`];
}

/** The Debian package's Docker CLI, for acting on containers behind the agent's back. */
export function docker(...args: string[]): string {
  return execFileSync('/usr/bin/docker', args, { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function runCli(args: readonly string[]): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [AGENT_BIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Test clean-up: force-removes every container labelled with this agent ID (none for ''). */
export function removeContainersOf(agentId: string): void {
  const left = agentId ? docker('ps', '-aq', '--filter', `label=berth.agent-id=${agentId}`) : '';
  for (const id of left ? left.split('\n') : []) docker('rm', '-f', id);
}

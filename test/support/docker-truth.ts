import { expect } from 'vitest';
import type { StateChange } from '../../src/api/events.js';
import type { TaskView } from '../../src/api/view.js';
import type { ControlClient } from '../../src/control/client.js';
import { docker } from './agent-process.js';

/** The whole event feed, page by page. */
export async function readFeed(client: ControlClient, after = 0): Promise<StateChange[]> {
  const events: StateChange[] = [];
  for (;;) {
    const page = (await client.get<{ events: StateChange[]; last: number }>(`/v1/events?after=${after}&limit=5000`)).body;
    if (page.events.length === 0) return events;
    events.push(...page.events);
    after = page.last;
  }
}

/** Consecutive seqs from the first, and no (task, container, incarnation, status, health) reported twice. */
export function expectCleanFeed(events: readonly StateChange[]): void {
  const first = events[0]?.seq ?? 1;
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => first + i));
  const keys = events.map((e) => `${e.type} ${e.taskArn} ${e.containerName ?? ''} #${e.restartCount ?? 0} ${e.status} ${e.health ?? ''}`);
  expect(keys.length).toBe(new Set(keys).size);
}

/**
 * Docker agrees with the agent: every container labelled with the agent's ID is one the tasks
 * know (none unaccounted for, none twice), a container is running exactly when the agent says
 * RUNNING, and a stopped one exited with the code the agent reports.
 */
export function expectStateMatchesDocker(agentId: string, tasks: readonly TaskView[]): void {
  const present = (c: TaskView['containers'][number]): boolean => c.dockerId !== undefined && c.reason !== 'ContainerMissing';
  const known = tasks.flatMap((t) => t.containers.flatMap((c) => (present(c) ? [c.dockerId!] : [])));
  const labelled = docker('ps', '-aq', '--no-trunc', '--filter', `label=berth.agent-id=${agentId}`).split('\n').filter(Boolean);
  expect([...labelled].sort()).toEqual([...known].sort());
  for (const t of tasks) {
    for (const c of t.containers) {
      if (!present(c)) continue;
      const [running, exitCode] = docker('inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', c.dockerId!).split(' ');
      const seen = { container: `${t.arn}/${c.name}`, running: running === 'true', ...(running === 'true' ? {} : { exitCode: Number(exitCode) }) };
      const said = { container: `${t.arn}/${c.name}`, running: c.knownStatus === 'RUNNING', ...(c.knownStatus === 'RUNNING' ? {} : { exitCode: c.exitCode }) };
      expect(said).toEqual(seen);
    }
  }
}

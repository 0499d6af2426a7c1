import type { StateChange } from '../../src/api/events.js';
import type { TaskView } from '../../src/api/view.js';
import type { ControlClient } from '../../src/control/client.js';
import { IMAGE } from '../support/fixtures.js';

/**
 * The load of issue 3, item 6, shared by the load test and the apply benchmark: `clients`
 * concurrent clients applying `tasks` one-container tasks in total over the control socket.
 */

export const LOAD = { clients: 50, tasks: 2_000 } as const;

export const loadArn = (i: number): string => `arn:load:task/t-${String(i).padStart(5, '0')}`;

export function loadTask(i: number): Record<string, unknown> {
  return { arn: loadArn(i), family: 'load', version: 1, containers: [{ name: 'app', image: IMAGE, command: ['sleep', '300'] }] };
}

export interface Applied {
  readonly arn: string;
  readonly status: number;
  /** POST sent → answer read. */
  readonly ms: number;
}

/** Each client POSTs its share of the tasks one after another; all clients run at once. */
export async function applyAll(client: ControlClient, clients: number, tasks: number): Promise<Applied[]> {
  const applied: Applied[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < tasks) {
        const i = next++;
        const started = performance.now();
        const res = await client.post('/v1/tasks', loadTask(i));
        applied.push({ arn: loadArn(i), status: res.status, ms: performance.now() - started });
      }
    }),
  );
  return applied;
}

/** Polls GET /v1/tasks until `count` tasks are RUNNING; throws past the deadline with how far it got. */
export async function untilAllRunning(client: ControlClient, count: number, deadlineMs: number): Promise<TaskView[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const res = await client.get<{ tasks: TaskView[] }>('/v1/tasks');
    const running = res.body.tasks.filter((t) => t.knownStatus === 'RUNNING');
    if (running.length >= count) return res.body.tasks;
    if (Date.now() > deadline) throw new Error(`only ${running.length} of ${count} tasks RUNNING after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The whole feed, page by page, as a control plane reads it. */
export async function readFeed(client: ControlClient): Promise<StateChange[]> {
  const events: StateChange[] = [];
  let after = 0;
  for (;;) {
    const res = await client.get<{ events: StateChange[]; last: number }>(`/v1/events?after=${after}&limit=5000`);
    if (res.status !== 200) throw new Error(`GET /v1/events?after=${after} answered ${res.status}: ${JSON.stringify(res.body)}`);
    if (res.body.events.length === 0) return events;
    events.push(...res.body.events);
    after = res.body.last;
  }
}

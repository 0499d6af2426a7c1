import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StateChange } from '../../../src/api/events.js';
import type { TaskView } from '../../../src/api/view.js';
import { Api, ApiRefusal } from '../../../src/cli/client/api.js';
import { TaskWatch } from '../../../src/cli/wait/task-watch.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';
import { NO_RETRIES } from './support.js';

/** An agent whose event feed cannot be streamed, as an older agent or a proxy in between would. */
class NoFeedApi extends Api {
  override lastSeq(): Promise<number> {
    return Promise.reject(new ApiRefusal(404, { code: 'NotFound', message: 'no route /v1/events' }, undefined));
  }
}

let a: InProcessAgent;
beforeEach(async () => {
  a = await new InProcessAgent().start({}, NO_RETRIES);
});
afterEach(() => a.dispose());

async function watch(arn: string, body: Record<string, unknown>) {
  const changes: StateChange[] = [];
  const notes: string[] = [];
  const w = await TaskWatch.open({
    api: new NoFeedApi(a.config.socketPath),
    arn,
    target: 'RUNNING',
    timeoutMs: 5_000,
    signal: new AbortController().signal,
    onChange: (e) => changes.push(e),
    onNote: (n) => notes.push(n),
    pollMs: 10,
  });
  const posted = await a.client.post<TaskView>('/v1/tasks', body);
  return { outcome: await w.until(posted.body), changes, notes };
}

describe('following a task without the event stream', () => {
  it('polls the task and reports what changed until it is RUNNING', async () => {
    let release!: () => void;
    a.docker.delayNext('pull', new Promise<void>((r) => (release = r)));
    setTimeout(() => release(), 100);
    const { outcome, changes, notes } = await watch('arn:watch:poll', taskBody('arn:watch:poll'));
    expect(outcome.kind).toBe('reached');
    expect(outcome.task?.knownStatus).toBe('RUNNING');
    expect(notes).toEqual(['cannot stream events (agent refused (404 NotFound): no route /v1/events); polling the task instead']);
    expect(changes.at(-1)).toMatchObject({ type: 'task', status: 'RUNNING', taskArn: 'arn:watch:poll' });
    expect(changes.some((c) => c.type === 'container' && c.containerName === 'web' && c.status === 'RUNNING')).toBe(true);
  });

  it('reports a task that stopped instead, with the container\'s reason', async () => {
    const body = taskBody('arn:watch:fail', { containers: [{ name: 'web', image: 'registry.test:5000/berth/missing:1' }] });
    const { outcome, changes } = await watch('arn:watch:fail', body);
    expect(outcome.kind).toBe('stopped');
    expect(outcome.task?.containers[0]).toMatchObject({ knownStatus: 'STOPPED', reason: 'PullFailed' });
    expect(changes.find((c) => c.type === 'container')).toMatchObject({ status: 'STOPPED', reason: 'PullFailed' });
  });
});

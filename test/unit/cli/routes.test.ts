import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfigDocument } from '../../../src/routes/route-config.js';
import type { RouteStatus } from '../../../src/routes/route-runner.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';
import { at, cli } from './support.js';

describe('agent routes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-routes-'));
  let agent: InProcessAgent | undefined;
  afterEach(async () => {
    await agent?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows each route as a table, a failing one with its error, and the same as JSON', async () => {
    const { routes } = parseConfigDocument('test', {
      routes: [
        { name: 'audit', backend: { type: 'file', path: join(dir, 'audit.ndjson') } },
        { name: 'pager', backend: { type: 'command', command: ['sh', '-c', 'echo down >&2; exit 1'] }, retry: { initial: '10ms', max: '20ms' } },
      ],
    });
    agent = await new InProcessAgent().start({}, { routes });
    await agent.client.post('/v1/tasks', taskBody('arn:test:task/routed'));
    await agent.untilStatus('arn:test:task/routed', 'RUNNING');
    const json = async (): Promise<RouteStatus[]> => JSON.parse((await cli(['routes', '--json', ...at(agent!)])).stdout) as RouteStatus[];
    await vi.waitFor(async () => expect((await json()).map((r) => [r.name, r.delivered > 0, r.failures > 0])).toEqual([['audit', true, false], ['pager', false, true]]));
    const text = (await cli(['routes', ...at(agent)])).stdout;
    expect(text).toMatch(/^ROUTE\s+BACKEND\s+CURSOR\s+LAG\s+DELIVERED\s+FAILURES\s+DROPPED\s+GAP EVENTS\s+STATE$/m);
    expect(text).toMatch(/^audit\s+file \S+audit\.ndjson\s+\d+\s+0\s+1\s+0\s+0\s+0\s+ok$/m);
    expect(text).toMatch(/^pager\s+command sh\s+\d+\s+[1-9]\d*\s+0\s+[1-9]\d*\s+0\s+0\s+failing for \d+s: route pager: command sh exited with status 1: down$/m);
  });

  it('says how to declare routes when there are none', async () => {
    agent = await new InProcessAgent().start();
    expect((await cli(['routes', ...at(agent)])).stdout.trim()).toBe('no routes (declare them in the --config file)');
  });
});

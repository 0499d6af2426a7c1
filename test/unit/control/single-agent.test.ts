import { afterEach, expect, it } from 'vitest';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';

const agents: InProcessAgent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.dispose();
});

it('a second agent on the same data directory is refused before it writes or touches Docker', async () => {
  const saver = new MemorySaver();
  const first = new InProcessAgent({ saver });
  agents.push(first);
  await first.start();
  await first.client.post('/v1/tasks', taskBody('arn:one'));
  await first.untilStatus('arn:one', 'RUNNING');
  const callsBefore = first.docker.calls.length;
  const configBefore = await saver.getMeta('config');

  const second = new InProcessAgent({ saver, docker: first.docker });
  await expect(second.start({ dataDir: first.config.dataDir, logLevel: 'debug' })).rejects.toThrow(/another agent is already serving/);
  expect(first.docker.calls.length).toBe(callsBefore);
  expect(await saver.getMeta('config')).toBe(configBefore);
  expect((await first.client.get('/v1/health')).status).toBe(200);
});

it('a client keeps working across an agent restart (no stale pooled connection)', async () => {
  const saver = new MemorySaver();
  const a = new InProcessAgent({ saver });
  agents.push(a);
  await a.start();
  const client = a.client;
  expect((await client.get('/v1/health')).status).toBe(200);
  await a.stop();
  const b = new InProcessAgent();
  agents.push(b);
  await b.start({ dataDir: a.config.dataDir });
  expect((await client.get('/v1/health')).status).toBe(200);
});

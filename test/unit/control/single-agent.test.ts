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

it('--socket-group opens the socket to one group: 0660 owned by that group, directory 0710', async () => {
  const a = new InProcessAgent();
  agents.push(a);
  // A numeric gid needs no entry in /etc/group; as root any gid can be given.
  const gid = process.getuid?.() === 0 ? 4242 : process.getgid!();
  await a.start({ socketGroup: String(gid) });
  const { statSync } = await import('node:fs');
  const { dirname } = await import('node:path');
  const sock = statSync(a.config.socketPath);
  expect(sock.mode & 0o777).toBe(0o660);
  expect(sock.gid).toBe(gid);
  expect(statSync(dirname(a.config.socketPath)).mode & 0o777).toBe(0o710);
  expect((await a.client.get('/v1/health')).status).toBe(200);
});

it('refuses a socket group that does not exist, naming it', async () => {
  const a = new InProcessAgent();
  agents.push(a);
  await expect(a.start({ socketGroup: 'no-such-group-berth' })).rejects.toThrow(/socket group "no-such-group-berth" does not exist/);
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';
import { runCli } from '../../../src/cli/program.js';
import { Sink, at, cli } from './support.js';

const ARN = 'arn:test:task/services-cli';

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('agent services', () => {
  let agent: InProcessAgent;
  let dockerId: string;

  beforeEach(async () => {
    agent = await new InProcessAgent().start();
    await agent.client.post('/v1/tasks', taskBody(ARN));
    dockerId = (await agent.untilStatus(ARN, 'RUNNING')).containers[0]!.dockerId!;
  });
  afterEach(() => agent.dispose());

  it('prints the services as a table, or the API answer with --json', async () => {
    const run = await cli(['services', ...at(agent)]);
    expect(run.code).toBe(0);
    const [header, row, ...rest] = run.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^SERVICE\s+CONTAINER\s+FAMILY\s+HOSTS\s+PORTS\s+HEALTH\s+PID\s+AD IDENTIFIERS$/);
    expect(row).toMatch(new RegExp(`^${dockerId.slice(0, 12)}\\s+web\\s+api\\s+bridge=[\\d.]+\\s+80\\s+UNKNOWN\\s+\\d+\\s+docker://${dockerId},`));
    expect(rest).toEqual([]);
    const json = await cli(['services', '--json', ...at(agent)]);
    expect(JSON.parse(json.stdout)).toEqual((await agent.client.get('/v1/services')).body);
  });

  it('--watch prints the current services, the synced line, then records as they happen, until interrupted', async () => {
    const abort = new AbortController();
    const stdout = new Sink();
    const stderr = new Sink();
    const run = runCli(['services', '--watch', '--json', ...at(agent)], { stdout, stderr, env: {}, signal: abort.signal });
    const lines = (): Array<{ type: string; service?: { id: string } }> => stdout.text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    await until(() => lines().length === 2);
    expect(lines()).toEqual([{ type: 'added', service: expect.objectContaining({ id: dockerId }) }, { type: 'synced' }]);
    agent.docker.crash(dockerId, 1);
    await until(() => lines().length === 3);
    expect(lines()[2]).toEqual({ type: 'removed', service: expect.objectContaining({ id: dockerId }) });
    abort.abort();
    expect(await run).toBe(0);
    expect(stderr.text).toBe('');
  });

  it('--watch says so and fails when the agent ends the watch', async () => {
    const stdout = new Sink();
    const stderr = new Sink();
    const run = runCli(['services', '--watch', ...at(agent)], { stdout, stderr, env: {} });
    await until(() => stdout.text.includes('--- synced'));
    expect(stdout.text).toMatch(new RegExp(`^added    ${dockerId.slice(0, 12)}  web  bridge=[\\d.]+  ports 80  UNKNOWN\n--- synced`));
    await agent.stop();
    expect(await run).toBe(1);
    expect(stderr.text).toMatch(/the agent ended the watch/);
  });
});

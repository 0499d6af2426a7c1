import { describe, expect, it } from 'vitest';
import { AGENT_VERSION } from '../../../src/agent.js';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { cli } from './support.js';

const COMMANDS = [[], ['run'], ['task'], ['task', 'apply'], ['task', 'ls'], ['task', 'inspect'], ['task', 'stop'], ['events'], ['state'], ['state', 'dump']];
const LEAVES = [['task', 'apply'], ['task', 'ls'], ['task', 'inspect'], ['task', 'stop'], ['events'], ['state', 'dump'], ['run']];

describe('the agent program', () => {
  it.each(COMMANDS.map((c) => [c.join(' ') || '(root)', c]))('%s --help has an example, on stdout, exit 0', async (_name, words) => {
    const run = await cli([...words, '--help']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^Usage: agent/);
    expect(run.stdout).toMatch(/\nExamples?:\n {2}agent /);
  });

  it.each(LEAVES.map((c) => [c.join(' '), c]))('%s takes --json', async (_name, words) => {
    expect((await cli([...words, '--help'])).stdout).toMatch(/^ {2}--json\s/m);
  });

  it('prints its version', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: `${AGENT_VERSION}\n`, stderr: '' });
  });

  it('answers a mistake with exit 2 and the error on stderr', async () => {
    const unknown = await cli(['tasks']);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toContain("unknown command 'tasks'");
    const missing = await cli(['task', 'apply']);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toContain("required option '-f, --file <file>' not specified");
    const badAfter = await cli(['events', '--after', '-3']);
    expect(badAfter.code).toBe(EXIT.usage);
    expect(badAfter.stderr).toContain('must be a whole number');
    const badDuration = await cli(['state', 'dump', '--stuck-after', 'soon']);
    expect(badDuration.code).toBe(EXIT.usage);
    expect(badDuration.stderr).toContain('--stuck-after must be a duration like 30s');
    expect((await cli([])).code).toBe(EXIT.usage);
  });

  it('passes the run flags to the configuration (a bad value stops it before anything starts)', async () => {
    const count = await cli(['run', '--event-retention-count', '0', '--data-dir', '/nonexistent/berth']);
    expect(count).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining('event retention count') });
    const age = await cli(['run', '--event-retention-age', 'forever', '--data-dir', '/nonexistent/berth']);
    expect(age).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining('event retention age') });
    const group = await cli(['run', '--socket-group', 'no such group!', '--data-dir', '/nonexistent/berth']);
    expect(group).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining('socket group') });
    const both = await cli(['run', '--json', '--log-format', 'text']);
    expect(both.code).toBe(EXIT.usage);
  });

  it('reads BERTH_ settings from the io environment, not from the process', async () => {
    const run = await cli(['task', 'ls'], { env: { BERTH_SOCKET: '/nonexistent/berth.sock' } });
    expect(run.code).toBe(EXIT.unreachable);
    expect(run.stderr).toContain('/nonexistent/berth.sock');
  });
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/cli/exit-codes.js';
import type { InProcessAgent } from '../../support/in-process-agent.js';
import { cli, sqliteAgent } from './support.js';

const SECRET = 'Cli-Secret-4';
const b64 = (text: string): string => Buffer.from(text).toString('base64');

let dir: string;
let agent: InProcessAgent | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-run-docker-config-'));
});
afterEach(async () => {
  await agent?.dispose();
  agent = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string> = {}) =>
  cli(['run', '--data-dir', join(dir, 'data'), '--log-level', 'error', ...args], { env: { HOME: dir, ...env } });

describe('agent run with a docker config', () => {
  it('refuses to start when the file given by --docker-config is missing, naming it', async () => {
    const missing = join(dir, 'nope.json');
    const result = await run(['--docker-config', missing]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toBe(`agent: cannot read the docker config given by --docker-config ${missing}: no such file\n`);
  });

  it('refuses to start when DOCKER_CONFIG names a directory without config.json', async () => {
    mkdirSync(join(dir, 'docker'));
    const result = await run([], { DOCKER_CONFIG: join(dir, 'docker') });
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toBe(`agent: cannot read the docker config given by DOCKER_CONFIG ${join(dir, 'docker', 'config.json')}: no such file\n`);
  });

  it('refuses a malformed file naming the file and the entry, and never the secret in it', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ auths: { '127.0.0.1:5001': { auth: b64(SECRET) } } }));
    const result = await run(['--docker-config', file]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toBe(`agent: docker config ${file}: auths["127.0.0.1:5001"].auth: must be the base64 of user:password, and has no colon\n`);
    expect(result.stderr).not.toContain(SECRET);
  });

  it('state dump shows which docker config the agent started with, and nothing of what it holds', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ auths: { '127.0.0.1:5001': { auth: b64(`ann:${SECRET}`) } } }));
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    agent = await sqliteAgent(dataDir, { dockerConfigPath: file, dockerConfigSource: '--docker-config' });
    const dump = await cli(['state', 'dump', '--data-dir', dataDir]);
    expect(dump.code).toBe(0);
    expect(dump.stdout).toMatch(new RegExp(`^  dockerConfigPath +${file.replace(/[.]/g, '\\.')}$`, 'm'));
    expect(dump.stdout).toMatch(/^ {2}dockerConfigSource +--docker-config$/m);
    const json = await cli(['state', 'dump', '--data-dir', dataDir, '--json']);
    for (const out of [dump.stdout, json.stdout]) {
      expect(out).not.toContain(SECRET);
      expect(out).not.toContain(b64(`ann:${SECRET}`));
    }
  });
});

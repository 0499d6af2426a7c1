import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DumpDocument } from '../../../src/cli/render/dump.js';
import type { SourceStatus } from '../../../src/sources/source-status.js';
import { openSqliteSaver } from '../../../src/state/sqlite-saver.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';
import { at, cli } from './support.js';

let dataDir: string;
let agent: InProcessAgent | undefined;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'berth-cli-sources-'));
});
afterEach(async () => {
  await agent?.dispose();
  agent = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

/** The api owning one task that a manifest claims too, and a bad manifest file. */
async function conflicted(): Promise<InProcessAgent> {
  const manifests = join(dataDir, 'manifests');
  mkdirSync(manifests);
  const data = join(dataDir, 'data');
  const a = await new InProcessAgent({ saver: openSqliteSaver(join(data, 'state.db')) }).start({ dataDir: data, manifests });
  agent = a;
  await a.client.post('/v1/tasks', taskBody('arn:cli:task/shared'));
  writeFileSync(join(manifests, 'shared.json'), JSON.stringify(taskBody('arn:cli:task/shared')));
  writeFileSync(join(manifests, 'bad.json'), JSON.stringify({ family: 'x', version: 1, containers: [] }));
  await vi.waitFor(() => expect(a.agent!.sources.statuses().find((s) => s.name === 'manifests')).toMatchObject({ conflicts: [{}], errors: [{}] }), { timeout: 5_000 });
  await a.untilStatus('arn:cli:task/shared', 'RUNNING');
  await a.agent!.sources.idle();
  return a;
}

describe('agent sources', () => {
  it('shows each source with its counts, then every conflict and bad item, and the same as JSON', async () => {
    const a = await conflicted();
    const json = JSON.parse((await cli(['sources', '--json', ...at(a)])).stdout) as SourceStatus[];
    expect(json.map((s) => [s.name, s.kind, s.taskCount, s.conflicts.length, s.errors.length])).toEqual([
      ['api', 'pushed', 1, 1, 0],
      ['manifests', 'watched', 1, 1, 1],
    ]);
    const text = (await cli(['sources', ...at(a)])).stdout;
    expect(text).toMatch(/^SOURCE\s+KIND\s+TASKS\s+CONFLICTS\s+ERRORS\s+REVISION$/m);
    expect(text).toMatch(/^manifests\s+watched\s+1\s+1\s+1\s+-$/m);
    expect(text).toContain('conflict  manifests: arn:cli:task/shared claimed by api, manifests; api keeps it');
    expect(text).toMatch(/^error {5}manifests: bad\.json: containers/m);
  });

  it('state dump shows the sources, their conflicts and bad files from the database', async () => {
    await conflicted();
    await vi.waitFor(async () => {
      const doc = JSON.parse((await cli(['state', 'dump', '--json', '--data-dir', join(dataDir, 'data')])).stdout) as DumpDocument;
      expect(doc.sources.map((s) => [s.name, s.taskCount, s.conflicts.map((c) => c.owner), s.errors.map((e) => e.origin)])).toEqual([
        ['api', 1, ['api'], []],
        ['manifests', 1, ['api'], ['bad.json']],
      ]);
      expect(doc.tasks.find((t) => t.arn === 'arn:cli:task/shared')).toMatchObject({ source: 'api', conflicts: ['manifests'] });
    });
    const text = (await cli(['state', 'dump', '--data-dir', join(dataDir, 'data')])).stdout;
    expect(text).toMatch(/^sources {6}2$/m);
    expect(text).toContain('conflict  api: arn:cli:task/shared claimed by api, manifests; api keeps it');
    expect(text).toMatch(/error {5}manifests: bad\.json: /);
  });
});

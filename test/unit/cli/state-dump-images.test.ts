import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { DumpDocument } from '../../../src/cli/render/dump.js';
import { openSqliteSaver } from '../../../src/state/sqlite-saver.js';
import { cli } from './support.js';

const NOW = Date.parse('2026-01-02T12:00:00Z');
const HOUR = 3_600_000;
let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'berth-cli-dump-images-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

it('agent state dump lists the tracked images, least recently used first, with short ID, last use and pull', async () => {
  const saver = openSqliteSaver(join(dataDir, 'state.db'));
  await saver.saveImages({
    put: [
      { ref: 'registry.test:5000/recent:1', imageId: `sha256:${'a'.repeat(64)}`, pulledAt: NOW - 3 * HOUR, lastUsedAt: NOW - HOUR },
      { ref: 'docker.io/library/busybox:latest', imageId: `sha256:${'b'.repeat(64)}`, lastUsedAt: NOW - 2 * HOUR },
    ],
  });
  await saver.close();

  const text = await cli(['state', 'dump', '--data-dir', dataDir], { now: () => NOW });
  expect(text.code).toBe(0);
  const lines = text.stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith('images '));
  expect(lines[at]).toBe('images       2 tracked (pulled or used by this agent), least recently used first');
  expect(lines[at + 2]).toMatch(/^ {2}docker\.io\/library\/busybox:latest\s+b{12}\s+2h ago\s+never \(found cached\)$/);
  expect(lines[at + 3]).toMatch(/^ {2}registry\.test:5000\/recent:1\s+a{12}\s+1h ago\s+3h ago$/);

  const json = await cli(['state', 'dump', '--json', '--data-dir', dataDir], { now: () => NOW });
  expect((JSON.parse(json.stdout) as DumpDocument).images).toEqual([
    { ref: 'docker.io/library/busybox:latest', imageId: `sha256:${'b'.repeat(64)}`, lastUsedAt: new Date(NOW - 2 * HOUR).toISOString(), pulledAt: null },
    { ref: 'registry.test:5000/recent:1', imageId: `sha256:${'a'.repeat(64)}`, lastUsedAt: new Date(NOW - HOUR).toISOString(), pulledAt: new Date(NOW - 3 * HOUR).toISOString() },
  ]);
});

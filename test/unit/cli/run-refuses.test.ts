import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { cli } from './support.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

it('agent run on a damaged database exits 5 with a message naming the file, and leaves the file as it was', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-run-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'data'));
  const db = join(dir, 'data', 'state.db');
  writeFileSync(db, Buffer.from('SQLite format 3\0'.padEnd(4096, 'garbage')));
  const before = readFileSync(db);
  const run = await cli(['run', '--data-dir', join(dir, 'data'), '--log-level', 'error']);
  expect(run.code).toBe(EXIT.state);
  expect(run.stderr).toContain(db);
  expect(run.stderr).toMatch(/not a readable berth database/);
  expect(readFileSync(db).equals(before)).toBe(true);
});

it.each([
  [['--reserved-memory', '-1'], /reserved memory \(--reserved-memory, BERTH_RESERVED_MEMORY\) must be a whole number of MiB, 0 or more, got "-1"/],
  [['--reserved-cpu', '999999999'], /reserved cpu \(--reserved-cpu, BERTH_RESERVED_CPU\) must be less than the host's \d+ CPU units/],
])('agent run %j exits 2 naming the setting, before opening anything', async (flags, message) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-run-'));
  dirs.push(dir);
  const run = await cli(['run', '--data-dir', join(dir, 'data'), ...flags]);
  expect(run.code).toBe(EXIT.usage);
  expect(run.stderr).toMatch(message);
  expect(existsSync(join(dir, 'data', 'state.db'))).toBe(false);
});

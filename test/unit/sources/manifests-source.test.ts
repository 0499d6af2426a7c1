import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PARSE_OPTIONS } from '../../../src/api/schema.js';
import { silentLogger } from '../../../src/log/logger.js';
import { ManifestsSource } from '../../../src/sources/manifests-source.js';
import type { SourcedTask, SourceItemError, SourceSink, SourceUpdate } from '../../../src/sources/task-source.js';
import { systemClock } from '../../../src/util/clock.js';
import { IMAGE } from '../../support/fixtures.js';

let dir: string;
let source: ManifestsSource | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-manifests-'));
});
afterEach(async () => {
  await source?.stop();
  source = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const short = (arn: string | undefined, tag = 'latest', extra: Record<string, unknown> = {}) => ({
  ...(arn === undefined ? {} : { arn }),
  family: 'web',
  version: 2,
  containers: [{ name: 'app', image: IMAGE.replace(':latest', `:${tag}`), command: ['sleep', '300'] }],
  ...extra,
});

const write = (file: string, body: unknown): void => writeFileSync(join(dir, file), typeof body === 'string' ? body : JSON.stringify(body));

/** A sink that keeps the last SET and the last error list. */
function recorder(): SourceSink & { sets: SourceUpdate[]; errorLists: SourceItemError[][]; last(): SourcedTask[]; lastErrors(): SourceItemError[] } {
  const r = {
    sets: [] as SourceUpdate[],
    errorLists: [] as SourceItemError[][],
    update: (u: SourceUpdate) => void r.sets.push(u),
    errors: (e: readonly SourceItemError[]) => void r.errorLists.push([...e]),
    last: () => {
      const u = r.sets.at(-1);
      return u?.op === 'SET' ? [...u.tasks] : [];
    },
    lastErrors: () => r.errorLists.at(-1) ?? [],
  };
  return r;
}

function open(rescanIntervalMs = 60_000): ManifestsSource {
  source = new ManifestsSource({ dir, debounceMs: 20, rescanIntervalMs, parse: DEFAULT_PARSE_OPTIONS, clock: systemClock, log: silentLogger() });
  return source;
}

const summary = (tasks: SourcedTask[]) => tasks.map((t) => `${t.origin} ${t.definition.arn} ${t.definition.containers[0]!.image}`);

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('manifests source', () => {
  it('reads each JSON and YAML file as one task, in either form; a file without an arn gets the derived one; other files are ignored', async () => {
    write('a.json', short('arn:m:task/a'));
    write('b.yaml', `family: batch\nversion: 1\ncontainers:\n  - name: job\n    image: ${IMAGE}\n`);
    write('c.yml', { family: 'ecs', revision: 4, containerDefinitions: [{ name: 'web', image: IMAGE, memory: 64 }] });
    write('notes.txt', 'not a task');
    write('.hidden.json', short('arn:m:task/hidden'));
    const sink = recorder();
    await open().start(sink, {});
    expect(summary(sink.last())).toEqual([
      `a.json arn:m:task/a ${IMAGE}`,
      `b.yaml arn:berth:task/batch:1 ${IMAGE}`,
      `c.yml arn:berth:task/ecs:4 ${IMAGE}`,
    ]);
    expect(sink.errorLists).toEqual([]);
  });

  it('reports a bad file by name with the API\'s message and keeps the other files\' tasks', async () => {
    write('good.json', short('arn:m:task/good'));
    write('bad.json', { arn: 'arn:m:task/bad', family: 'web', version: 1, containers: [{ name: 'app', image: '' }] });
    write('broken.yaml', 'family: [unclosed');
    const sink = recorder();
    await open().start(sink, {});
    expect(summary(sink.last())).toEqual([`good.json arn:m:task/good ${IMAGE}`]);
    expect(sink.lastErrors()).toEqual([
      { origin: 'bad.json', message: expect.stringMatching(/^containers\[0\]\.image: must be a Docker image reference/) },
      { origin: 'broken.yaml', message: expect.stringMatching(/^broken\.yaml is not valid YAML/) },
    ]);
  });

  it('a file that becomes invalid keeps its last good task and reports the error; fixing it clears the error', async () => {
    write('a.json', short('arn:m:task/a', '1'));
    const sink = recorder();
    const s = open();
    await s.start(sink, {});
    write('a.json', '{"arn": "arn:m:task/a", "family": ');
    await s.scan();
    expect(summary(sink.last())).toEqual([`a.json arn:m:task/a ${IMAGE.replace(':latest', ':1')}`]);
    expect(sink.lastErrors()).toEqual([{ origin: 'a.json', message: expect.stringContaining('a.json is neither valid JSON nor valid YAML') }]);
    write('a.json', short('arn:m:task/a', '2'));
    await s.scan();
    expect(summary(sink.last())).toEqual([`a.json arn:m:task/a ${IMAGE.replace(':latest', ':2')}`]);
    expect(sink.lastErrors()).toEqual([]);
  });

  it('keeps a file\'s last good task across a restart, from the saved set', async () => {
    write('a.json', 'garbage{');
    const sink = recorder();
    const saved = { definition: { arn: 'arn:m:task/a' } as SourcedTask['definition'], origin: 'a.json' };
    await open().start(sink, { tasks: [saved] });
    expect(sink.last()).toEqual([saved]);
    expect(sink.lastErrors()).toHaveLength(1);
  });

  it('a deleted file leaves the set', async () => {
    write('a.json', short('arn:m:task/a'));
    write('b.json', short('arn:m:task/b'));
    const sink = recorder();
    const s = open();
    await s.start(sink, {});
    unlinkSync(join(dir, 'a.json'));
    await s.scan();
    expect(summary(sink.last())).toEqual([`b.json arn:m:task/b ${IMAGE}`]);
  });

  it('of two files with the same arn the later name is refused with an item error, not a conflict', async () => {
    write('b.json', short('arn:m:task/same', '2'));
    write('a.json', short('arn:m:task/same', '1'));
    const sink = recorder();
    await open().start(sink, {});
    expect(summary(sink.last())).toEqual([`a.json arn:m:task/same ${IMAGE.replace(':latest', ':1')}`]);
    expect(sink.lastErrors()).toEqual([{ origin: 'b.json', message: 'b.json gives arn arn:m:task/same, which a.json already gives; it is ignored' }]);
  });

  it('follows the directory: a new file, a rename and a burst of rewrites are seen without asking', async () => {
    const sink = recorder();
    await open().start(sink, {});
    write('a.json', short('arn:m:task/a', '1'));
    await until(() => sink.last().length === 1, 'the new file');
    for (let i = 2; i <= 50; i++) write('a.json', short('arn:m:task/a', String(i)));
    await until(() => summary(sink.last())[0] === `a.json arn:m:task/a ${IMAGE.replace(':latest', ':50')}`, 'the last rewrite');
    // Far fewer scans than writes: the debounce makes a burst one scan.
    expect(sink.sets.length).toBeLessThan(25);
    writeFileSync(join(dir, 'tmp.partial'), JSON.stringify(short('arn:m:task/b')));
    renameSync(join(dir, 'tmp.partial'), join(dir, 'b.json'));
    await until(() => sink.last().length === 2, 'the renamed file');
  });

  it('rescans periodically, for changes the watch misses', async () => {
    const sink = recorder();
    const s = open(50);
    await s.start(sink, {});
    const scans = sink.sets.length;
    await until(() => sink.sets.length >= scans + 2, 'two periodic rescans');
  });
});

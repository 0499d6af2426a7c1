import { describe, expect, it } from 'vitest';
import type { ImageRecord } from '../../../src/api/image-record.js';
import type { ImageInfo } from '../../../src/docker/docker-client.js';
import { imagesInUse } from '../../../src/engine/image-cleanup/images-in-use.js';
import { planImageCleanup, type ImageCleanupInput, type ImageCleanupRules } from '../../../src/engine/image-cleanup/plan-image-cleanup.js';
import { containerDef, taskAt, taskDef } from '../../support/fixtures.js';
import { newTaskState } from '../../../src/engine/task-state.js';

const MIN = 60_000;
const NOW = 1_000 * MIN;
const RULES: ImageCleanupRules = { minimumAgeMs: 60 * MIN, perPass: 5, exclude: [] };

const id = (n: string): string => `sha256:${n.padEnd(64, '0')}`;
const image = (n: string, tags: string[], digests: string[] = []): ImageInfo => ({ id: id(n), repoTags: tags, repoDigests: digests, sizeBytes: 1, createdAt: 0 });
const record = (ref: string, n: string, usedMinutesAgo: number): ImageRecord => ({ ref, imageId: id(n), pulledAt: NOW - usedMinutesAgo * MIN, lastUsedAt: NOW - usedMinutesAgo * MIN });

const A = 'registry.test:5000/a:1';
const B = 'registry.test:5000/b:1';
const C = 'registry.test:5000/c:1';
const LOCAL = [image('a', [A]), image('b', [B]), image('c', [C])];
const RECORDS = [record(A, 'a', 120), record(B, 'b', 300), record(C, 'c', 90)];

function input(overrides: Partial<ImageCleanupInput> = {}): ImageCleanupInput {
  return { records: RECORDS, local: LOCAL, inUse: { refs: new Set(), imageIds: new Set() }, pulling: () => false, rules: RULES, now: NOW, ...overrides };
}

/** The plan as text: what is removed in order, then what is kept and why. */
function show(i: ImageCleanupInput): string {
  const plan = planImageCleanup(i);
  return [...plan.removals.map((r) => `remove ${r.remove.join(' ')}`), ...plan.kept.map((k) => `keep ${k.refs.join(' ')} (${k.reason})`)].join('\n');
}

describe('planImageCleanup', () => {
  it.each<[string, ImageCleanupInput, string]>([
    ['removes unused tracked images least recently used first', input(), `remove ${B}\nremove ${A}\nremove ${C}`],
    ['at most perPass per pass, the least recently used', input({ rules: { ...RULES, perPass: 2 } }), `remove ${B}\nremove ${A}`],
    [
      'keeps an image used within the minimum age',
      input({ rules: { ...RULES, minimumAgeMs: 100 * MIN } }),
      `remove ${B}\nremove ${A}\nkeep ${C} (too-recent)`,
    ],
    ['a minimum age of 0 lets an image just used go', input({ records: [record(A, 'a', 0)], rules: { ...RULES, minimumAgeMs: 0 } }), `remove ${A}`],
    ['keeps an image a task references by name', input({ inUse: { refs: new Set([B]), imageIds: new Set() } }), `remove ${A}\nremove ${C}\nkeep ${B} (in-use)`],
    ['keeps an image a task references by ID under another name', input({ inUse: { refs: new Set(['registry.test:5000/other:9']), imageIds: new Set([id('b')]) } }), `remove ${A}\nremove ${C}\nkeep ${B} (in-use)`],
    ['keeps an image being pulled', input({ pulling: (ref) => ref === A }), `remove ${B}\nremove ${C}\nkeep ${A} (pulling)`],
    ['keeps an excluded image, however the exclusion spells it', input({ rules: { ...RULES, exclude: ['registry.test:5000/c:1', 'busybox'] } }), `remove ${B}\nremove ${A}\nkeep ${C} (excluded)`],
    [
      'excludes by any name of the image, also one the agent does not track',
      input({ local: [image('a', [A, 'busybox:latest'])], records: [record(A, 'a', 120)], rules: { ...RULES, exclude: ['docker.io/library/busybox:latest'] } }),
      `keep ${A} (excluded)`,
    ],
    ['never an image the agent does not track', input({ records: [record(A, 'a', 120)] }), `remove ${A}`],
    ['nothing for a record whose image is gone', input({ local: [image('b', [B])], records: [record(A, 'a', 120)] }), ''],
    [
      'removes each tracked name of an image, ordered by its latest use',
      input({ local: [image('a', [A, 'registry.test:5000/a:latest'])], records: [record(A, 'a', 500), record('registry.test:5000/a:latest', 'a', 80)] }),
      `remove ${A} registry.test:5000/a:latest`,
    ],
    [
      'only the agent’s names: an operator’s extra tag is left (and keeps the image)',
      input({ local: [image('a', [A, 'mine:keep'])], records: [record(A, 'a', 120)] }),
      `remove ${A}`,
    ],
    [
      'a record follows its name: once the tag names another image, that one is tracked, the old one is not',
      input({ local: [image('a', []), image('a2', [A])], records: [record(A, 'a', 120)] }),
      `remove ${A}`,
    ],
    [
      'a dangling image the record last named is removed by its ID',
      input({ local: [image('a', [])], records: [record(A, 'a', 120)] }),
      `remove ${id('a')}`,
    ],
    [
      'a digest reference is matched by the image’s repo digests',
      input({ local: [image('d', [], ['registry.test:5000/d@sha256:' + 'f'.repeat(64)])], records: [record('registry.test:5000/d@sha256:' + 'f'.repeat(64), 'd', 120)] }),
      `remove registry.test:5000/d@sha256:${'f'.repeat(64)}`,
    ],
  ])('%s', (_name, i, expected) => {
    expect(show(i)).toBe(expected);
  });

  it('orders equal last uses by image ID, so a pass is reproducible', () => {
    const plan = planImageCleanup(input({ records: [record(C, 'c', 120), record(A, 'a', 120)] }));
    expect(plan.removals.map((r) => r.imageId)).toEqual([id('a'), id('c')]);
  });
});

describe('imagesInUse', () => {
  it('every task the engine holds, at any status, by normalised name and by the ID its record knows', () => {
    const stoppedTask = taskAt({ app: 'STOPPED' }, { desired: 'STOPPED' });
    const waiting = newTaskState(taskDef('arn:waiting', [containerDef('app', { image: 'busybox' }), containerDef('side', { image: B })]), 1, 'agent');
    const used = imagesInUse([stoppedTask, waiting], [record(B, 'b', 1), record(A, 'a', 1)]);
    expect([...used.refs].sort()).toEqual([B, 'docker.io/library/busybox:latest', stoppedTask.containers[0]!.definition.image].sort());
    expect([...used.imageIds]).toEqual([id('b')]);
  });

  it('also by the image a container was made from, though its tag has moved on since', () => {
    const made = taskAt({ app: ['RUNNING', { imageId: id('old') }] });
    expect([...imagesInUse([made], [record(made.containers[0]!.definition.image, 'new', 1)]).imageIds].sort()).toEqual([id('new'), id('old')]);
  });
});

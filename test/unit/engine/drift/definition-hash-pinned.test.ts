import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTaskInput } from '../../../../src/api/schema.js';
import { taskSettings, type TaskDefinition } from '../../../../src/api/task.js';
import { canonicalJson, definitionHash, hashInputV1 } from '../../../../src/engine/drift/definition-hash.js';
import { ValidationError } from '../../../../src/errors.js';
import { LINUX_X64 } from '../../api/ecs-support.js';

/**
 * v1 is shipped: containers carry its labels, so changing what it computes would recreate them.
 * Every container of every task definition in ../shared/ecs-taskdefs the parser accepts is hashed,
 * and the digest of all those hashes is pinned. Making hashing faster must leave it as it is; a
 * change of what is hashed is a new version (HASHERS), never an edit of v1.
 */
const FOLDER = new URL('../../../../../shared/ecs-taskdefs/', import.meta.url);
const FILES = readdirSync(FOLDER).filter((f) => /^\d{3}-.*\.json$/.test(f)).sort();

function accepted(file: string): TaskDefinition | undefined {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(readFileSync(new URL(file, FOLDER), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined; // the templates whose placeholders are not JSON
  }
  try {
    const input = parseTaskInput({ ...body, arn: `arn:test:taskdefs/${file.slice(0, 3)}` }, { ...LINUX_X64, allowPrivileged: true });
    return input.kind === 'definition' ? input.task : undefined;
  } catch (error) {
    if (error instanceof ValidationError) return undefined;
    throw error;
  }
}

const tasks = FILES.map(accepted).filter((t): t is TaskDefinition => t !== undefined);
const containers = tasks.flatMap((t) => t.containers.map((d) => ({ d, settings: taskSettings(t) })));

/** The reference canonical form: sorted keys, undefined-valued keys dropped, then JSON.stringify. */
function reference(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reference);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, reference(v)]),
  );
}

describe('definition hash v1, pinned', () => {
  it('hashes every container of the accepted ECS task definitions as it always has', () => {
    expect(containers.length).toBeGreaterThan(60);
    const all = containers.map(({ d, settings }) => definitionHash(d, settings)).join('\n');
    expect(createHash('sha256').update(all).digest('hex')).toBe('861521e693b08e320cbc733c0e8408b4ff12dc367f5ba00b3bd1401ee53f523c');
  });

  it('writes the same canonical text as sorted keys through JSON.stringify, for every input and edge value', () => {
    for (const { d, settings } of containers) {
      const input = hashInputV1(d, settings);
      expect(canonicalJson(input)).toBe(JSON.stringify(reference(input)));
    }
    const edges = { z: [undefined, null, 1.5, -0, 'a"\\\n\u2028'], a: { y: undefined, x: [{}, []] }, é: true, A: false, '10': 1, '9': 2 };
    expect(canonicalJson(edges)).toBe(JSON.stringify(reference(edges)));
  });
});

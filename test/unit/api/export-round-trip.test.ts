import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { acceptedInput, definitionOf } from '../../../src/api/export/accepted-input.js';
import { exportDocument, parseStateDocument } from '../../../src/api/export/state-document.js';
import { parseTaskInput } from '../../../src/api/schema.js';
import type { TaskDefinition } from '../../../src/api/task.js';
import { newTaskState, raiseDesired } from '../../../src/engine/task-state.js';
import { ValidationError } from '../../../src/errors.js';
import { LINUX_X64 } from './ecs-support.js';

/**
 * Every task definition in ../shared/ecs-taskdefs, read from there: each one the parser accepts
 * goes parse → task state → export → parse and must come back field for field.
 */
const FOLDER = new URL('../../../../shared/ecs-taskdefs/', import.meta.url);
const FILES = readdirSync(FOLDER).filter((f) => /^\d{3}-.*\.json$/.test(f)).sort();
const OPTIONS = { ...LINUX_X64, allowPrivileged: true };

function accepted(file: string): TaskDefinition | undefined {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(readFileSync(new URL(file, FOLDER), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined; // the templates whose placeholders are not JSON
  }
  try {
    const input = parseTaskInput({ ...body, arn: `arn:test:taskdefs/${file.slice(0, 3)}` }, OPTIONS);
    return input.kind === 'definition' ? input.task : undefined;
  } catch (error) {
    if (error instanceof ValidationError) return undefined;
    throw error;
  }
}

const definitions = FILES.map((file) => ({ file, def: accepted(file) }));
const roundTripped: string[] = [];

function back(input: Record<string, unknown>): TaskDefinition {
  const parsed = parseTaskInput(JSON.parse(JSON.stringify(input)), OPTIONS);
  if (parsed.kind !== 'definition') throw new Error('expected a definition');
  return parsed.task;
}

describe('export round trip over ../shared/ecs-taskdefs', () => {
  it('reads all 77', () => {
    expect(FILES).toHaveLength(77);
  });

  it.each(definitions)('$file', ({ file, def }) => {
    if (!def) return;
    const state = newTaskState(def, 1_000, 'agent-1');
    expect(back(acceptedInput(definitionOf(state)))).toStrictEqual(def);
    // A raised desired status is what is exported, and it survives too.
    const stopped = raiseDesired(state, 'STOPPED', 2_000);
    expect(back(acceptedInput(definitionOf(stopped)))).toStrictEqual({ ...def, desiredStatus: 'STOPPED' });
    roundTripped.push(file);
  });

  it('round-tripped every definition the parser accepts (47 with --allow-privileged)', () => {
    expect(roundTripped).toHaveLength(definitions.filter((d) => d.def).length);
    expect(roundTripped).toHaveLength(47);
  });

  it('the whole document, as YAML and as JSON, restores every definition', () => {
    const defs = definitions.flatMap((d) => (d.def ? [d.def] : []));
    const doc = exportDocument('agent-1', defs.map((d, i) => newTaskState(d, i, 'agent-1')), Date.parse('2026-12-02T12:00:00Z'));
    for (const text of [stringify(doc), JSON.stringify(doc)]) {
      const restored = parseStateDocument(parse(text), OPTIONS);
      expect(restored.agentId).toBe('agent-1');
      expect(restored.tasks.map((t) => t.definition)).toStrictEqual(defs);
      expect(new Set(restored.tasks.map((t) => t.source))).toEqual(new Set(['api']));
    }
  });
});

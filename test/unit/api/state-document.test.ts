import { describe, expect, it } from 'vitest';
import { acceptedInput } from '../../../src/api/export/accepted-input.js';
import { exportDocument, isStateDocument, parseStateDocument } from '../../../src/api/export/state-document.js';
import type { TaskDefinition } from '../../../src/api/task.js';
import { newTaskState } from '../../../src/engine/task-state.js';
import { ValidationError } from '../../../src/errors.js';
import { definition, IMAGE, LINUX_X64 } from './ecs-support.js';

const short = (fields: Record<string, unknown> = {}): Record<string, unknown> => ({
  arn: 'arn:test:short',
  family: 'web',
  version: '1.2.0-rc.1',
  containers: [{ name: 'web', image: IMAGE, environment: { MODE: 'x' }, portMappings: [{ containerPort: 80 }] }],
  ...fields,
});

function issuesOf(doc: unknown): string[] {
  try {
    parseStateDocument(doc, LINUX_X64);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

const docOf = (...defs: TaskDefinition[]) => exportDocument('agent-7', defs.map((d, i) => newTaskState(d, i, 'agent-7')), Date.parse('2026-12-02T10:00:00Z'));

describe('acceptedInput', () => {
  it('writes a task the short form can say in the short form, as its author would have', () => {
    expect(acceptedInput(definition(short()))).toEqual({
      arn: 'arn:test:short',
      family: 'web',
      version: '1.2.0-rc.1',
      desiredStatus: 'RUNNING',
      containers: [{ name: 'web', image: IMAGE, environment: { MODE: 'x' }, portMappings: [{ containerPort: 80 }] }],
    });
  });

  it('writes any other task in the ECS form, with only what differs from the defaults', () => {
    const def = definition({
      arn: 'arn:test:ecs',
      family: 'web',
      revision: 4,
      containerDefinitions: [{ name: 'app', image: IMAGE, cpu: 1, memory: 64, environment: [{ name: 'A', value: '1' }], healthCheck: { command: ['CMD', 'true'] } }],
      volumes: [{ name: 'scratch' }],
    });
    expect(acceptedInput(def)).toEqual({
      arn: 'arn:test:ecs',
      family: 'web',
      revision: 4,
      desiredStatus: 'RUNNING',
      volumes: [{ name: 'scratch' }],
      containerDefinitions: [
        { name: 'app', image: IMAGE, memory: 64, environment: [{ name: 'A', value: '1' }], healthCheck: { command: ['CMD', 'true'], interval: 30, timeout: 5, retries: 3, startPeriod: 0 } },
      ],
    });
  });

  it('refuses to write a definition that would not read back the same', () => {
    const def = definition({ arn: 'arn:test:ecs', family: 'web', containerDefinitions: [{ name: 'app', image: IMAGE, healthCheck: { command: ['CMD', 'true'] } }] });
    expect(() => acceptedInput({ ...def, version: 'v2' })).toThrow(
      'task arn:test:ecs cannot be written back as input: version "v2" is not an ECS revision and the task uses fields only the ECS form has',
    );
    // Saved under rules that allowed it; today's parser makes the container's cpu Docker's minimum.
    const old = { ...def, containers: [{ ...def.containers[0]!, cpu: 1 }] };
    expect(() => acceptedInput(old)).toThrow('task arn:test:ecs cannot be written back as input: it would parse to a different definition');
  });
});

describe('the export document', () => {
  it('has a kind, a version, the agent ID, the time and one entry per task with its source', () => {
    const doc = docOf(definition(short()));
    expect(doc).toEqual({
      kind: 'berth/agent-state',
      version: 1,
      agentId: 'agent-7',
      exportedAt: '2026-12-02T10:00:00.000Z',
      tasks: [{ source: 'api', definition: acceptedInput(definition(short())) }],
    });
    expect(isStateDocument(doc)).toBe(true);
    expect(isStateDocument(short())).toBe(false);
  });

  it('leaves out tasks already cleaned up', () => {
    const gone = { ...newTaskState(definition(short({ arn: 'arn:test:gone' })), 0, 'a'), cleanedUp: true };
    expect(exportDocument('a', [gone], 0).tasks).toEqual([]);
  });

  it('refuses a bad document naming the task index and the field, and every problem at once', () => {
    const doc = docOf(definition(short()), definition(short({ arn: 'arn:test:two' })));
    const bad = structuredClone(doc) as unknown as { tasks: Array<{ definition: { containers: Array<Record<string, unknown>> } }> };
    bad.tasks[1]!.definition.containers[0]!.image = 'Not An Image';
    expect(issuesOf(bad)).toEqual(['tasks[1].definition.containers[0].image: must be a Docker image reference like registry:5000/repo/name:tag']);
    expect(issuesOf({ ...doc, tasks: [doc.tasks[0], doc.tasks[0]] })).toEqual(['tasks[1].definition.arn: task arn:test:short is also tasks[0]']);
    expect(issuesOf({ ...doc, version: 2, agentId: '' })).toEqual([
      'version: version 2 is newer than this agent reads (1); restore it with a newer agent',
      'agentId: must be 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit',
    ]);
    expect(issuesOf({ ...doc, kind: 'other' })[0]).toBe('kind: must be "berth/agent-state" (the document `agent state export` writes)');
    expect(issuesOf({ ...doc, tasks: [{ source: 'api', definition: { arn: 'arn:test:short', desiredStatus: 'STOPPED' } }] })).toEqual([
      'tasks[0].definition: must be a whole task definition, not only a desired status',
    ]);
  });
});

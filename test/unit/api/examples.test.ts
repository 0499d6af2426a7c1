import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { definition, parsed } from './ecs-support.js';

const FOLDER = new URL('../../../examples/', import.meta.url);
const read = (file: string): unknown => JSON.parse(readFileSync(new URL(file, FOLDER), 'utf8'));
const FILES = readdirSync(FOLDER).filter((f) => f.endsWith('.json')).sort();

describe('examples/', () => {
  it.each(FILES)('%s is accepted as it is, with nothing ignored, on the test image', (file) => {
    const input = parsed(read(file));
    expect(input.warnings).toEqual([]);
    expect(input.kind === 'definition' && input.task.containers.every((c) => c.image === '127.0.0.1:5000/berth/busybox:latest')).toBe(true);
  });

  it('has one ECS task definition per feature group', () => {
    expect(FILES.filter((f) => f.startsWith('ecs-'))).toEqual([
      'ecs-dependencies-health.json',
      'ecs-limits.json',
      'ecs-logging.json',
      'ecs-networking.json',
      'ecs-volumes.json',
    ]);
  });

  it('writes web-task.json (the ECS form) and web-task-short.json (the short form) as the same task', () => {
    expect(definition(read('web-task.json'))).toEqual(definition(read('web-task-short.json')));
  });
});

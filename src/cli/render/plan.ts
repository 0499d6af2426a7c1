import type { ContainerChange, DefinitionChange, FieldDiff } from '../../engine/drift/definition-change.js';

/**
 * `agent task plan`: one line for the task, one per container (its action and name), and under a
 * recreate one line per changed field: `path: old → new`, values as JSON, `(unset)` when absent.
 * Paths are those of the hash input, without its `container.` prefix; task settings keep `task.`.
 */
export function planText(p: DefinitionChange): string {
  const head =
    p.currentGeneration === 0
      ? `plan for ${p.arn}: new task, generation 1`
      : p.generation === p.currentGeneration
        ? `plan for ${p.arn}: same definition, generation ${p.generation}: nothing to do`
        : `plan for ${p.arn}: generation ${p.currentGeneration} → ${p.generation}`;
  return [head, ...p.containers.flatMap(containerLines)].join('\n');
}

function containerLines(c: ContainerChange): string[] {
  const line = `  ${c.action.padEnd(9)} ${c.name}`;
  if (c.action !== 'recreate') return [line];
  return [c.because ? `${line} (${c.because})` : line, ...c.diff.map(diffLine)];
}

function diffLine(d: FieldDiff): string {
  const path = d.path.startsWith('container.') ? d.path.slice('container.'.length) : d.path;
  return `              ${path}: ${value(d, 'old')} → ${value(d, 'new')}`;
}

function value(d: FieldDiff, side: 'old' | 'new'): string {
  return side in d ? JSON.stringify(d[side]) : '(unset)';
}

import type { FieldIssue } from '../../errors.js';
import type { TaskDefinition } from '../task.js';
import { mayHoldTemplates, parseTemplate } from '../template-variables.js';
import { formatPath } from './issues.js';

/**
 * Template variables in environment values (src/api/template-variables.ts), as far as the
 * definition alone can tell: the grammar, and that each names another container of the task.
 * What needs the other container running (its address, PID, an index into its ports) is resolved
 * when this one is created, and stops it with TemplateVariableUnresolved if it cannot be.
 */
export function validateTemplates(task: Pick<TaskDefinition, 'containers'>, containersKey: string): FieldIssue[] {
  const names = new Set(task.containers.map((c) => c.name));
  const issues: FieldIssue[] = [];
  task.containers.forEach((c, i) =>
    Object.entries(c.environment).forEach(([name, value], j) => {
      if (!mayHoldTemplates(value)) return;
      // The ECS form lists the environment ({name, value} pairs); the short form is an object.
      const path = formatPath(containersKey === 'containerDefinitions' ? [containersKey, i, 'environment', j, 'value'] : [containersKey, i, 'environment', name]);
      const parsed = parseTemplate(value);
      if (!parsed.ok) return issues.push({ path, message: parsed.message });
      for (const part of parsed.parts) {
        if (typeof part === 'string') continue;
        if (part.container === c.name) {
          issues.push({ path, message: `${part.raw} names ${c.name} itself: template variables come from another container of the task` });
        } else if (!names.has(part.container)) {
          issues.push({ path, message: `${part.raw} names no container of this task` });
        }
      }
      return undefined;
    }),
  );
  return issues;
}

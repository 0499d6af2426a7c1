import type { FieldIssue } from '../../errors.js';

/** What the agent accepted without effect, one line per field, as the CLI prints it. */
export function warningLines(warnings: readonly FieldIssue[] | undefined): string[] {
  return (warnings ?? []).map((w) => `warning: ${w.path || '(root)'}: ${w.message}`);
}

/**
 * The version of the rules that parse and validate task input (src/api/). Every saved task records
 * the version it was accepted under (TaskState.rules), and the state layer never re-applies input
 * rules to a saved task: it checks only that the stored model is well formed. So a rule tightened
 * later never quarantines a task that is already running.
 *
 * Raise it when a change refuses input an earlier build accepted, or changes what accepted input
 * means; loosening a rule or adding a field does not need it. Version 1 covers every release up to
 * and including state schema 003, whose tasks migration 004 marks with it.
 */
export const PARSE_RULES_VERSION = 1;

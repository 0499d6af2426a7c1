-- Rows the agent could not decode at load (a task with no containers, container rows whose task is
-- missing, a definition that no longer parses or validates, a status no reader knows) are moved
-- here instead of stopping the agent from starting. Kept verbatim so an operator can inspect or
-- repair them; nothing in the agent reads this table back into its state.
CREATE TABLE quarantine (
  id             INTEGER PRIMARY KEY,
  -- Not unique: a task re-created under the same arn may be quarantined again later.
  arn            TEXT NOT NULL,
  reason         TEXT NOT NULL CHECK (length(reason) > 0),
  -- The `tasks` row as a JSON object; NULL when only container rows were left (their task is missing).
  task_row       TEXT CHECK (task_row IS NULL OR (json_valid(task_row) AND json_type(task_row) = 'object')),
  -- The `containers` rows, in position order, as a JSON array of objects (possibly empty).
  container_rows TEXT NOT NULL CHECK (json_valid(container_rows) AND json_type(container_rows) = 'array'),
  -- ISO-8601.
  quarantined_at TEXT NOT NULL CHECK (length(quarantined_at) > 0)
) STRICT;
CREATE INDEX quarantine_arn ON quarantine (arn);

-- Every record gets an `extra` column: a JSON object holding each field that has no column of its
-- own, as declared in src/state/records.ts. A field added to a task, a container or an event is
-- kept there, so it needs no migration; rows written before it existed load with its default.
-- Columns stay for what SQL itself needs (CHECKs, indexes, ORDER BY) and for what released schemas
-- already had. ADD COLUMN with a constant default rewrites no row, however large `events` is.
--
-- `rules` is the version of the input rules a task was accepted under (src/api/rules-version.ts):
-- loading checks the stored model only, never today's input rules, so a rule tightened later never
-- quarantines a running task. Every task saved before this migration was accepted under version 1.
ALTER TABLE tasks ADD COLUMN rules INTEGER NOT NULL DEFAULT 1 CHECK (rules >= 1);
ALTER TABLE tasks ADD COLUMN extra TEXT NOT NULL DEFAULT '{}'
  CHECK (json_valid(extra) AND json_type(extra) = 'object');
ALTER TABLE containers ADD COLUMN extra TEXT NOT NULL DEFAULT '{}'
  CHECK (json_valid(extra) AND json_type(extra) = 'object');
ALTER TABLE events ADD COLUMN extra TEXT NOT NULL DEFAULT '{}'
  CHECK (json_valid(extra) AND json_type(extra) = 'object');

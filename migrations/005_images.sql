-- What the agent knows of each image its tasks use (src/state/records.ts IMAGE): when it last
-- pulled it, when a task last used it, and what it pulled. Image cleanup removes the least
-- recently used first; the `once` pull behaviour asks whether this agent ever pulled it.
-- `ref` is the reference as Docker resolves it (src/docker/image-reference.ts).
CREATE TABLE images (
  ref TEXT PRIMARY KEY CHECK (length(ref) > 0),
  extra TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(extra) AND json_type(extra) = 'object')
);

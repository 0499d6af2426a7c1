-- Task sources (src/sources/): each source's last applied set, one row per (source, arn), so a
-- change of one task writes one row and a restart neither replays nor misses anything. `claim`
-- orders the claims on one arn across sources (the first claimant owns it, README "Task sources");
-- `definition` is the parsed task definition as JSON.
CREATE TABLE source_tasks (
  source     TEXT NOT NULL CHECK (length(source) > 0),
  arn        TEXT NOT NULL CHECK (length(arn) > 0),
  origin     TEXT NOT NULL,
  claim      INTEGER NOT NULL CHECK (claim >= 1),
  definition TEXT NOT NULL CHECK (json_valid(definition) AND json_type(definition) = 'object'),
  PRIMARY KEY (source, arn)
) STRICT;

-- The revision each source's saved set is at (etcd's revision, as text); sources without one have no row.
CREATE TABLE sources (
  name     TEXT PRIMARY KEY NOT NULL CHECK (length(name) > 0),
  revision TEXT NOT NULL
) STRICT;

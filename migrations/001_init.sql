-- Initial schema for berth's engine state.
-- Applied by src/state/migrate.ts inside one transaction; never edit once released: add 002_*.sql.
-- STRICT tables make SQLite refuse a value of the wrong type instead of silently storing it, and the
-- CHECKs mirror src/api/status.ts so a bug in the engine cannot persist a status no reader understands.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL CHECK (length(key) > 0),
  value TEXT NOT NULL
) STRICT;

CREATE TABLE tasks (
  arn            TEXT PRIMARY KEY NOT NULL CHECK (length(arn) > 0),
  family         TEXT NOT NULL,
  version        TEXT NOT NULL,
  desired_status TEXT NOT NULL CHECK (desired_status IN ('RUNNING', 'STOPPED')),
  known_status   TEXT NOT NULL
                 CHECK (known_status IN ('NONE', 'PULLED', 'CREATED', 'RUNNING', 'STOPPED')),
  -- Epoch milliseconds.
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  stopped_at     INTEGER,
  -- NULL (never set) is kept apart from 0 (explicitly false) so the value round-trips exactly.
  cleaned_up     INTEGER CHECK (cleaned_up IN (0, 1))
) STRICT;

CREATE TABLE containers (
  task_arn       TEXT NOT NULL REFERENCES tasks (arn) ON DELETE CASCADE,
  name           TEXT NOT NULL CHECK (length(name) > 0),
  -- Index in the task definition: containers start (and are listed) in this order.
  position       INTEGER NOT NULL CHECK (position >= 0),
  -- The ContainerDefinition as JSON; immutable once the task is accepted, so never queried into.
  definition     TEXT NOT NULL CHECK (json_valid(definition)),
  docker_name    TEXT NOT NULL,
  docker_id      TEXT,
  desired_status TEXT NOT NULL CHECK (desired_status IN ('RUNNING', 'STOPPED')),
  known_status   TEXT NOT NULL
                 CHECK (known_status IN ('NONE', 'PULLED', 'CREATED', 'RUNNING', 'STOPPED')),
  exit_code      INTEGER,
  -- Not CHECKed against the reason list: adding a reason code must not need a table rebuild.
  reason_code    TEXT,
  reason_message TEXT,
  port_bindings  TEXT NOT NULL DEFAULT '[]'
                 CHECK (json_valid(port_bindings) AND json_type(port_bindings) = 'array'),
  created_at     INTEGER,
  started_at     INTEGER,
  finished_at    INTEGER,
  PRIMARY KEY (task_arn, name),
  UNIQUE (task_arn, position),
  CHECK ((reason_code IS NULL) = (reason_message IS NULL))
) STRICT;

-- Docker events carry only the container ID; this finds the container they are about.
CREATE INDEX containers_docker_id ON containers (docker_id);

-- AUTOINCREMENT (not a plain rowid) so a seq is never handed out twice, even after the newest
-- events are pruned: sqlite_sequence keeps the high-water mark that lastSeq() reports.
-- No foreign key to tasks: events outlive the tasks they describe.
CREATE TABLE events (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  type           TEXT NOT NULL CHECK (type IN ('container', 'task')),
  task_arn       TEXT NOT NULL CHECK (length(task_arn) > 0),
  container_name TEXT,
  docker_id      TEXT,
  status         TEXT NOT NULL
                 CHECK (status IN ('NONE', 'PULLED', 'CREATED', 'RUNNING', 'STOPPED')),
  exit_code      INTEGER,
  reason         TEXT,
  reason_message TEXT,
  port_bindings  TEXT
                 CHECK (port_bindings IS NULL
                        OR (json_valid(port_bindings) AND json_type(port_bindings) = 'array')),
  -- ISO-8601, as reported to clients.
  at             TEXT NOT NULL CHECK (length(at) > 0)
) STRICT;

-- Retention prunes events older than a given time; the index lets it find them without a scan.
CREATE INDEX events_at ON events (at);

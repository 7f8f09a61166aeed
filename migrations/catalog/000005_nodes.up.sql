-- The nodes of the fleet: each registers when serve starts, beats every
-- heartbeat_ms while it runs and records stopped_at when it shuts down
-- cleanly. Health (up, stale, stopped) is computed from these when read.
CREATE TABLE nodes (
  id            TEXT PRIMARY KEY,
  region        TEXT NOT NULL DEFAULT '',
  advertise_url TEXT NOT NULL DEFAULT '',
  version       TEXT NOT NULL DEFAULT '',
  started_at    INTEGER NOT NULL,
  heartbeat_at  INTEGER NOT NULL,
  heartbeat_ms  INTEGER NOT NULL,
  stopped_at    INTEGER
) WITHOUT ROWID;

-- A tenant's residency: the name of a residency set (configuration) its
-- home region must stay in; empty for none.
ALTER TABLE tenants ADD COLUMN residency TEXT NOT NULL DEFAULT '';

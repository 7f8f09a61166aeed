-- Fleet migrations: every run of `condo migrate up|down` (or of
-- POST /platform/migrations/run), and a per-tenant marker for a migration
-- that started and has not recorded its outcome. Times are Unix
-- milliseconds.
CREATE TABLE migration_runs (
  id           TEXT PRIMARY KEY,
  direction    TEXT NOT NULL CHECK (direction IN ('up', 'down')),
  target       INTEGER NOT NULL,
  status       TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  -- The owner writes heartbeat_at (with the counts) every few seconds; a
  -- running row whose owner is gone or silent is marked interrupted.
  heartbeat_at INTEGER NOT NULL,
  total        INTEGER NOT NULL DEFAULT 0,
  migrated     INTEGER NOT NULL DEFAULT 0,
  skipped      INTEGER NOT NULL DEFAULT 0,
  failed       INTEGER NOT NULL DEFAULT 0,
  concurrency  INTEGER NOT NULL,
  canary       INTEGER NOT NULL,
  max_failures INTEGER NOT NULL,
  error        TEXT NOT NULL DEFAULT '',
  failures     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(failures)),
  owner_pid    INTEGER NOT NULL,
  owner_host   TEXT NOT NULL,
  owner_token  TEXT NOT NULL
);
CREATE INDEX migration_runs_started ON migration_runs (started_at);
CREATE INDEX migration_runs_running ON migration_runs (status) WHERE status = 'running';

-- schema_pending is the version a fleet migration of this tenant started
-- towards; recording the outcome clears it. A value left by a crash tells
-- the next run to look at the file rather than trust schema_version.
ALTER TABLE tenants ADD COLUMN schema_pending INTEGER;

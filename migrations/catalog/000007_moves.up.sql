-- Live tenant moves (issue 12 part 5). A tenant's epoch counts the moves
-- that flipped its home: the flip raises it by one in the same statement
-- that changes region and location, and only when it is still the epoch
-- the move began at, so two moves (or a stale node) cannot both win.
ALTER TABLE tenants ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;

-- One row per move, written by the source node as it goes, so that a node
-- restarted after a crash knows where its moves stood.
CREATE TABLE moves (
  id           TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL,
  from_region  TEXT NOT NULL,
  from_node    TEXT NOT NULL,
  to_region    TEXT NOT NULL,
  to_node      TEXT NOT NULL,
  location     TEXT NOT NULL DEFAULT '',
  epoch        INTEGER NOT NULL,          -- the tenant's epoch when the move began
  state        TEXT NOT NULL,             -- copying, catching_up, flipped, done, failed
  step         TEXT NOT NULL DEFAULT '',  -- the step running or reached
  bytes        INTEGER NOT NULL DEFAULT 0,
  pause_ms     INTEGER,
  error        TEXT NOT NULL DEFAULT '',
  old_path     TEXT NOT NULL DEFAULT '',  -- the source's kept copy, once renamed
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  remove_after INTEGER                    -- when the sweep may delete old_path
) WITHOUT ROWID;

-- At most one live move per tenant.
CREATE UNIQUE INDEX moves_live ON moves (tenant_id) WHERE state IN ('copying', 'catching_up', 'flipped');
CREATE INDEX moves_tenant ON moves (tenant_id, created_at);

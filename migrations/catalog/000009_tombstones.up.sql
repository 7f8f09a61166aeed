-- A deleted tenant leaves a tombstone: its id, who deleted it, when and
-- why, and nothing of its data. While state is 'deleting' the delete has
-- begun (the tenant is suspended) and any node or a rerun finishes it; at
-- 'deleted' its files and catalog rows are gone. The id can be used again
-- only after the tombstone is purged.
CREATE TABLE tenant_tombstones (
  id          TEXT PRIMARY KEY,
  state       TEXT NOT NULL CHECK (state IN ('deleting', 'deleted')),
  deleted_by  TEXT NOT NULL,
  reason      TEXT NOT NULL DEFAULT '',
  started_at  INTEGER NOT NULL,
  deleted_at  INTEGER
) WITHOUT ROWID;

-- The token a tenant's remote location (a libSQL URL in tenants.location)
-- is opened with. Kept apart from the URL so that the URL can be shown
-- and logged; the token never leaves the catalog but to open the database.
ALTER TABLE tenants ADD COLUMN location_token TEXT NOT NULL DEFAULT '';

-- Leases on migrating a remote tenant: a tenant at a remote location has
-- no SQLite write lock this node can take, and nodes share it, so the
-- catalog arbitrates. A node takes a lease with one conditional upsert
-- (free, expired, or its own) and holds it until expires_at.
CREATE TABLE migration_leases (
  tenant_id  TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

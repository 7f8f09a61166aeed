-- A self-service sign-up (serve --signup) waiting for its email to be
-- verified, and, once verified, the tenant it created. Nothing else is
-- created before the verification: the row holds what the visitor chose.
-- The token is held only as its SHA-256, the chosen password only as the
-- hash a user's password has (auth.HashPassword).
-- A row is used once (used_at). Verified rows stay, so the cap of tenants
-- per email counts them (joined with tenants: a deleted tenant frees its
-- slot); pending rows are pruned a week after they expire.
CREATE TABLE signups (
  id          TEXT PRIMARY KEY,
  token_hash  TEXT NOT NULL UNIQUE,
  subdomain   TEXT NOT NULL,
  name        TEXT NOT NULL,
  email       TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  client_ip   TEXT NOT NULL DEFAULT '',
  expires_at  INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  used_at     INTEGER,
  tenant_id   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE INDEX signups_email ON signups (email);
CREATE INDEX signups_expires ON signups (expires_at) WHERE tenant_id = '';

-- The control plane: which tenants exist, where their databases live, and
-- which hosts reach them. Times are Unix milliseconds.
CREATE TABLE tenants (
  id                 TEXT PRIMARY KEY,
  name               TEXT NOT NULL,
  subdomain          TEXT NOT NULL UNIQUE,
  plan               TEXT NOT NULL DEFAULT 'free',
  status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'archived')),
  settings           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
  branding           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(branding)),
  storage_quota      INTEGER NOT NULL DEFAULT 1073741824,
  user_limit         INTEGER NOT NULL DEFAULT 10,
  region             TEXT NOT NULL DEFAULT '',
  location           TEXT NOT NULL DEFAULT '',
  schema_version     INTEGER NOT NULL DEFAULT 0,
  schema_dirty       INTEGER NOT NULL DEFAULT 0,
  schema_error       TEXT NOT NULL DEFAULT '',
  schema_migrated_at INTEGER,
  schema_duration_ms INTEGER,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  expires_at         INTEGER
);
CREATE INDEX tenants_status ON tenants (status);
CREATE INDEX tenants_schema ON tenants (schema_version, schema_dirty);

CREATE TABLE tenant_domains (
  domain     TEXT PRIMARY KEY,
  tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  is_primary INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE INDEX tenant_domains_tenant ON tenant_domains (tenant_id);

CREATE TABLE tenant_invitations (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  email       TEXT NOT NULL,
  role        TEXT NOT NULL DEFAULT 'viewer',
  token_hash  TEXT NOT NULL UNIQUE,
  invited_by  TEXT NOT NULL,
  expires_at  INTEGER NOT NULL,
  accepted_at INTEGER,
  created_at  INTEGER NOT NULL
);
CREATE INDEX tenant_invitations_tenant ON tenant_invitations (tenant_id);

CREATE TABLE platform_admins (
  id            TEXT PRIMARY KEY,
  email         TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  last_login_at INTEGER
);

-- Process-wide values that must survive restarts (for example a generated
-- signing secret).
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

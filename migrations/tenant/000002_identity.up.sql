-- Identity inside a tenant: sessions (a login) and their rotating refresh
-- tokens, password resets, custom roles and the audit log. Secrets are
-- stored as SHA-256 hashes of high-entropy random tokens, never in clear.

-- A session is one login. Access tokens carry its id (sid), so revoking the
-- session (logout, refresh token reuse, password change) ends them at once.
CREATE TABLE sessions (
  id            TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  ip_address    TEXT NOT NULL DEFAULT '',
  user_agent    TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  revoked_at    INTEGER,
  revoke_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Each refresh rotates the token: the used one is marked, a new one issued.
-- Presenting a used token again revokes its whole session (the family).
CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE password_resets (
  token_hash TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL,
  used_at    INTEGER,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX password_resets_user ON password_resets (user_id);

-- Custom roles; the four built-in roles (admin, editor, author, viewer)
-- live in code and cannot be redefined.
CREATE TABLE roles (
  name        TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  permissions TEXT NOT NULL CHECK (json_valid(permissions)),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);

-- Audit and security events of this tenant, newest last. category is
-- 'audit' (who changed what) or 'security' (failed logins, lockouts,
-- cross-tenant tokens, permission denials, impersonations).
CREATE TABLE audit_log (
  id              INTEGER PRIMARY KEY,
  category        TEXT NOT NULL,
  action          TEXT NOT NULL,
  actor_type      TEXT NOT NULL DEFAULT '',
  actor_id        TEXT NOT NULL DEFAULT '',
  impersonator_id TEXT NOT NULL DEFAULT '',
  target          TEXT NOT NULL DEFAULT '',
  ip_address      TEXT NOT NULL DEFAULT '',
  user_agent      TEXT NOT NULL DEFAULT '',
  request_id      TEXT NOT NULL DEFAULT '',
  detail          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),
  created_at      INTEGER NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (created_at);

ALTER TABLE users ADD COLUMN password_changed_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN prefix TEXT NOT NULL DEFAULT '';

-- Coming back up after a rollback (000002's down file): put back what it
-- parked. On a new database the parked tables are empty ones made here.
CREATE TABLE IF NOT EXISTS condo_parked_roles (name, description, permissions, created_at, updated_at);
INSERT INTO roles (name, description, permissions, created_at, updated_at)
  SELECT name, description, permissions, created_at, updated_at FROM condo_parked_roles;
DROP TABLE condo_parked_roles;
CREATE TABLE IF NOT EXISTS condo_parked_audit_log (id, category, action, actor_type, actor_id, impersonator_id, target,
  ip_address, user_agent, request_id, detail, created_at);
INSERT INTO audit_log (id, category, action, actor_type, actor_id, impersonator_id, target, ip_address, user_agent, request_id, detail, created_at)
  SELECT id, category, action, actor_type, actor_id, impersonator_id, target, ip_address, user_agent, request_id, detail, created_at
  FROM condo_parked_audit_log;
DROP TABLE condo_parked_audit_log;
CREATE TABLE IF NOT EXISTS condo_parked_users (id, password_changed_at);
UPDATE users SET password_changed_at = p.password_changed_at FROM condo_parked_users AS p WHERE p.id = users.id;
DROP TABLE condo_parked_users;
CREATE TABLE IF NOT EXISTS condo_parked_api_tokens (id, prefix);
UPDATE api_tokens SET prefix = p.prefix FROM condo_parked_api_tokens AS p WHERE p.id = api_tokens.id;
DROP TABLE condo_parked_api_tokens;

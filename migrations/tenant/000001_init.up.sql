-- One tenant's CMS: the SonicJS schema without tenant_id, because the whole
-- file belongs to one tenant. Times are Unix milliseconds; JSON columns are
-- checked with json_valid.
CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  username      TEXT UNIQUE COLLATE NOCASE,
  first_name    TEXT NOT NULL DEFAULT '',
  last_name     TEXT NOT NULL DEFAULT '',
  password_hash TEXT NOT NULL DEFAULT '',
  role          TEXT NOT NULL DEFAULT 'viewer',
  avatar        TEXT,
  is_active     INTEGER NOT NULL DEFAULT 1,
  last_login_at INTEGER,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

CREATE TABLE collections (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  description  TEXT NOT NULL DEFAULT '',
  schema       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(schema)),
  is_public    INTEGER NOT NULL DEFAULT 0,
  is_active    INTEGER NOT NULL DEFAULT 1,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);

CREATE TABLE content (
  id            TEXT PRIMARY KEY,
  collection_id TEXT NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
  slug          TEXT NOT NULL,
  title         TEXT NOT NULL DEFAULT '',
  data          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
  status        TEXT NOT NULL DEFAULT 'draft',
  published_at  INTEGER,
  author_id     TEXT REFERENCES users (id) ON DELETE SET NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  UNIQUE (collection_id, slug)
);
CREATE INDEX content_collection_status ON content (collection_id, status, created_at);
CREATE INDEX content_author ON content (author_id);

CREATE TABLE content_versions (
  id         TEXT PRIMARY KEY,
  content_id TEXT NOT NULL REFERENCES content (id) ON DELETE CASCADE,
  version    INTEGER NOT NULL,
  data       TEXT NOT NULL CHECK (json_valid(data)),
  author_id  TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (content_id, version)
);

CREATE TABLE media (
  id            TEXT PRIMARY KEY,
  filename      TEXT NOT NULL,
  original_name TEXT NOT NULL,
  mime_type     TEXT NOT NULL,
  size          INTEGER NOT NULL,
  width         INTEGER,
  height        INTEGER,
  folder        TEXT NOT NULL DEFAULT '',
  alt           TEXT NOT NULL DEFAULT '',
  caption       TEXT NOT NULL DEFAULT '',
  tags          TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
  uploaded_by   TEXT REFERENCES users (id) ON DELETE SET NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX media_folder ON media (folder, created_at);

CREATE TABLE api_tokens (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  token_hash   TEXT NOT NULL UNIQUE,
  user_id      TEXT REFERENCES users (id) ON DELETE CASCADE,
  permissions  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(permissions)),
  expires_at   INTEGER,
  last_used_at INTEGER,
  created_at   INTEGER NOT NULL
);

CREATE TABLE workflow_history (
  id          TEXT PRIMARY KEY,
  content_id  TEXT NOT NULL REFERENCES content (id) ON DELETE CASCADE,
  action      TEXT NOT NULL,
  from_status TEXT NOT NULL,
  to_status   TEXT NOT NULL,
  user_id     TEXT,
  comment     TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL
);
CREATE INDEX workflow_history_content ON workflow_history (content_id, created_at);

CREATE TABLE plugins (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  version      TEXT NOT NULL,
  status       TEXT NOT NULL DEFAULT 'inactive',
  is_core      INTEGER NOT NULL DEFAULT 0,
  installed_at INTEGER NOT NULL,
  activated_at INTEGER,
  updated_at   INTEGER NOT NULL
);

CREATE TABLE plugin_settings (
  plugin_id  TEXT NOT NULL REFERENCES plugins (id) ON DELETE CASCADE,
  key        TEXT NOT NULL,
  value      TEXT NOT NULL CHECK (json_valid(value)),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (plugin_id, key)
);

CREATE TABLE system_logs (
  id          INTEGER PRIMARY KEY,
  level       TEXT NOT NULL,
  category    TEXT NOT NULL,
  message     TEXT NOT NULL,
  data        TEXT CHECK (data IS NULL OR json_valid(data)),
  user_id     TEXT,
  request_id  TEXT,
  ip_address  TEXT,
  user_agent  TEXT,
  method      TEXT,
  url         TEXT,
  status_code INTEGER,
  duration_ms INTEGER,
  created_at  INTEGER NOT NULL
);
CREATE INDEX system_logs_time ON system_logs (created_at);

CREATE TABLE log_config (
  category   TEXT PRIMARY KEY,
  enabled    INTEGER NOT NULL DEFAULT 1,
  level      TEXT NOT NULL DEFAULT 'info',
  retention  INTEGER NOT NULL DEFAULT 30,
  updated_at INTEGER NOT NULL
);

CREATE TABLE settings (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL CHECK (json_valid(value)),
  updated_at INTEGER NOT NULL
);

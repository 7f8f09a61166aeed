-- Back to 000004: no status triggers, and SonicJS's unused tables, empty
-- (Condo never wrote them), as 000001 made them.
DROP TRIGGER content_status_update;
DROP TRIGGER content_status_insert;

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

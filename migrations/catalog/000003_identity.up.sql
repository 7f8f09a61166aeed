-- Identity at the platform level: invitation state, the mail outbox and
-- security events seen across tenants.
ALTER TABLE tenant_invitations ADD COLUMN revoked_at INTEGER;
ALTER TABLE tenant_invitations ADD COLUMN user_id TEXT;

-- Every message the mailer sends or, without a mail server, keeps. status:
-- 'stored' (outbox mailer), 'sent' or 'failed' (SMTP).
CREATE TABLE outbox (
  id         TEXT PRIMARY KEY,
  tenant_id  TEXT NOT NULL DEFAULT '',
  to_addr    TEXT NOT NULL,
  subject    TEXT NOT NULL,
  body       TEXT NOT NULL,
  status     TEXT NOT NULL,
  error      TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  sent_at    INTEGER
);
CREATE INDEX outbox_time ON outbox (created_at);

-- Security events of every tenant (and of the platform login, tenant_id
-- ''), for platform admins. Each is also in its tenant's audit_log.
CREATE TABLE security_events (
  id         TEXT PRIMARY KEY,
  tenant_id  TEXT NOT NULL DEFAULT '',
  kind       TEXT NOT NULL,
  actor      TEXT NOT NULL DEFAULT '',
  ip_address TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT '',
  detail     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),
  created_at INTEGER NOT NULL
);
CREATE INDEX security_events_time ON security_events (created_at);
CREATE INDEX security_events_tenant ON security_events (tenant_id, created_at);

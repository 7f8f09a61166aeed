-- The platform's audit trail: every control-plane change (tenants, their
-- domains, settings and status, platform admins, the base domain, fleet
-- runs) and every lifecycle operation (export, import, move...), with who
-- did it and the record before and after. Rows are only ever added; they
-- hold catalog records, never a tenant's data or a secret.
CREATE TABLE platform_audit (
  id        TEXT PRIMARY KEY,          -- time-ordered (condo.NewID)
  at        INTEGER NOT NULL,          -- unix ms
  actor     TEXT NOT NULL,             -- admin:<email>, cli:<user>@<host>, system
  action    TEXT NOT NULL,             -- tenant.create, domain.add, ...
  tenant_id TEXT NOT NULL DEFAULT '',  -- '' for the platform itself
  target    TEXT NOT NULL DEFAULT '',  -- what inside it: a domain, an admin's email
  before    TEXT,                      -- JSON, or NULL when it did not exist
  after     TEXT                       -- JSON, or NULL when it no longer exists
) WITHOUT ROWID;
CREATE INDEX platform_audit_tenant ON platform_audit (tenant_id, id);

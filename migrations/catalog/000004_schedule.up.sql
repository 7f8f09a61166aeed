-- When each tenant next has scheduled content to publish or unpublish, so
-- the scheduler opens only the tenants that are due, not all of them.
CREATE TABLE content_schedule (
  tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  due_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX content_schedule_due ON content_schedule (due_at);

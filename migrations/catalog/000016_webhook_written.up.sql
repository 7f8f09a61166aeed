-- When another process (an operator command) last wrote webhook events
-- into a tenant's outbox: the server's delivery worker, which learns of
-- its own writes in process, rereads this every 30 s and works the
-- outboxes written since, so an event a command wrote goes out without
-- waiting for the tenant's next write through the server.
ALTER TABLE webhook_tenants ADD COLUMN written_at INTEGER NOT NULL DEFAULT 0;

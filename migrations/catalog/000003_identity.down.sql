DROP TABLE security_events;
DROP TABLE outbox;
ALTER TABLE tenant_invitations DROP COLUMN user_id;
ALTER TABLE tenant_invitations DROP COLUMN revoked_at;

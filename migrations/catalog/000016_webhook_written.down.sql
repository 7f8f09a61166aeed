ALTER TABLE webhook_tenants DROP COLUMN written_at;

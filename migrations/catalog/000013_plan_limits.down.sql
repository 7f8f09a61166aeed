ALTER TABLE tenants DROP COLUMN limits_custom;
DELETE FROM meta WHERE key = 'limits_custom_backfilled';

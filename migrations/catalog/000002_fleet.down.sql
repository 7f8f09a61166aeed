ALTER TABLE tenants DROP COLUMN schema_pending;
DROP TABLE migration_runs;

DROP TABLE migration_leases;
ALTER TABLE tenants DROP COLUMN location_token;

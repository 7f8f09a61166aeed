ALTER TABLE tenants DROP COLUMN residency;
DROP TABLE nodes;

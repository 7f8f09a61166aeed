DROP TABLE tenant_tombstones;

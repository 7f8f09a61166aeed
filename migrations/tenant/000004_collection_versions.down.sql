ALTER TABLE collections DROP COLUMN cache_stale;
ALTER TABLE collections DROP COLUMN cache_max_age;
ALTER TABLE collections DROP COLUMN version;

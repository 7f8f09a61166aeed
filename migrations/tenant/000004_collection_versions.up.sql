-- Collections get a version, bumped by every change of one, so that an
-- HTTP client can make its change conditional (If-Match) on the state it
-- read; and an optional cache policy for anonymous reads of their items
-- (NULL: the server's default).
ALTER TABLE collections ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE collections ADD COLUMN cache_max_age INTEGER CHECK (cache_max_age IS NULL OR cache_max_age >= 0);
ALTER TABLE collections ADD COLUMN cache_stale INTEGER CHECK (cache_stale IS NULL OR cache_stale >= 0);

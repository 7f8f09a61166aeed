-- Every new connection to a tenant file parses the whole schema before
-- its first statement, so each table, index and trigger is paid for on
-- every cold open (docs/PERFORMANCE.md measures each kind). SonicJS's
-- system_logs, log_config, plugins and plugin_settings tables came with
-- 000001, and Condo never reads or writes them: they go. (The plugins
-- capability CONTRACT.md plans will create the tables it needs in its own
-- migration, shaped for what it does.)
DROP TABLE plugin_settings;
DROP TABLE plugins;
DROP TABLE system_logs;
DROP TABLE log_config;

-- JSON columns refuse invalid JSON with CHECKs (000001); statuses are
-- refused here, so that a client writing raw SQL (the libSQL endpoint)
-- cannot store one the workflow does not know. Triggers rather than a
-- CHECK, which SQLite can add only by rebuilding the table; rows written
-- before stay as they are.
CREATE TRIGGER content_status_insert BEFORE INSERT ON content
  WHEN new.status NOT IN ('draft', 'review', 'published', 'archived')
BEGIN SELECT RAISE(ABORT, 'invalid content status'); END;
CREATE TRIGGER content_status_update BEFORE UPDATE OF status ON content
  WHEN new.status NOT IN ('draft', 'review', 'published', 'archived')
BEGIN SELECT RAISE(ABORT, 'invalid content status'); END;

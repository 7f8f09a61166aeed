-- Plugins per tenant (package plugins): which compiled-in plugins this
-- tenant enabled, with its settings for each. SonicJS's plugins and
-- plugin_settings tables went in 000005 (every table is parsed on every
-- cold open, docs/PERFORMANCE.md); this is the one lean table the
-- capability needs: no index beyond the primary key, no trigger. A row
-- exists once a plugin was configured; enabled = 0 keeps its settings
-- while it is off. settings is the plugin's settings, validated against
-- its schema and normalized by Condo before they are written.
CREATE TABLE plugins (
  name TEXT PRIMARY KEY,
  enabled INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
  settings TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Usage per tenant and UTC day, what an operator bills from. Each node adds
-- what it counted in memory once a minute (and at shutdown), so a row is
-- the sum over the nodes that served the tenant that day. latency holds
-- request counts per fixed latency bucket (package usage names the bounds):
-- buckets add up across nodes and flushes where percentiles would not.
-- bytes_stored, users and items are the last values gathered (NULL: not
-- gathered that day). last_active is Unix milliseconds. No foreign key: a
-- deleted tenant's usage is still billed.
CREATE TABLE usage_daily (
  tenant_id    TEXT NOT NULL,
  day          TEXT NOT NULL,
  requests     INTEGER NOT NULL DEFAULT 0,
  errors_4xx   INTEGER NOT NULL DEFAULT 0,
  errors_5xx   INTEGER NOT NULL DEFAULT 0,
  bytes_in     INTEGER NOT NULL DEFAULT 0,
  bytes_out    INTEGER NOT NULL DEFAULT 0,
  statements   INTEGER NOT NULL DEFAULT 0,
  latency      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(latency)),
  bytes_stored INTEGER,
  users        INTEGER,
  items        INTEGER,
  last_active  INTEGER,
  PRIMARY KEY (tenant_id, day)
) WITHOUT ROWID;
CREATE INDEX usage_daily_day ON usage_daily (day);

-- /metrics counts the mail outbox by status at every scrape.
CREATE INDEX outbox_status ON outbox (status);

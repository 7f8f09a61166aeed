-- Webhooks (issue 14): a tenant's endpoints, the outbox of the events they
-- subscribed to, and one delivery per event and endpoint. An event row is
-- written in the same transaction as the change it reports, and only when
-- an active endpoint subscribed to its type, so a tenant without webhooks
-- writes nothing more. Three tables only: every table is parsed at each
-- cold open of the database.
CREATE TABLE webhooks (
  id          TEXT PRIMARY KEY,
  url         TEXT NOT NULL,
  events      TEXT NOT NULL,            -- JSON array of event types
  secret      TEXT NOT NULL,            -- whsec_<base64>: signs deliveries
  active      INTEGER NOT NULL DEFAULT 1,
  description TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE webhook_events (
  id          TEXT PRIMARY KEY,         -- the webhook-id header: stable across retries
  type        TEXT NOT NULL,
  payload     TEXT NOT NULL,            -- the body sent, byte for byte
  created_at  INTEGER NOT NULL
) WITHOUT ROWID;
-- state pending: next_at is when the next attempt is due; attempts counts
-- the attempts since queued_at (the event, or the last replay); log holds
-- the last attempts (status, error, duration, time) as JSON.
CREATE TABLE webhook_deliveries (
  id          TEXT PRIMARY KEY,
  webhook_id  TEXT NOT NULL,
  event_id    TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  next_at     INTEGER NOT NULL,
  queued_at   INTEGER NOT NULL,
  log         TEXT NOT NULL DEFAULT '[]',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_of ON webhook_deliveries (webhook_id, created_at);

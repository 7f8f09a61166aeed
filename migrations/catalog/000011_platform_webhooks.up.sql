-- Platform webhooks (issue 14): the operator's endpoints for lifecycle and
-- billing events (tenant created, plan changed, quota exceeded, suspended,
-- archived, deleted, daily usage), their outbox and deliveries, shaped as
-- a tenant's (tenant migration 000008) so one package serves both. An
-- event is written in the transaction of the catalog change it reports.
CREATE TABLE platform_webhooks (
  id          TEXT PRIMARY KEY,
  url         TEXT NOT NULL,
  events      TEXT NOT NULL,            -- JSON array of event types
  secret      TEXT NOT NULL,            -- whsec_<base64>: signs deliveries
  active      INTEGER NOT NULL DEFAULT 1,
  description TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE platform_webhook_events (
  id          TEXT PRIMARY KEY,         -- the webhook-id header: stable across retries
  type        TEXT NOT NULL,
  payload     TEXT NOT NULL,            -- the body sent, byte for byte
  created_at  INTEGER NOT NULL
) WITHOUT ROWID;
-- state pending: next_at is when the next attempt is due; attempts counts
-- the attempts since queued_at (the event, or the last replay); log holds
-- the last attempts (status, error, duration, time) as JSON.
CREATE TABLE platform_webhook_deliveries (
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
CREATE INDEX platform_webhook_deliveries_due ON platform_webhook_deliveries (next_at) WHERE state = 'pending';
CREATE INDEX platform_webhook_deliveries_of ON platform_webhook_deliveries (webhook_id, created_at);
-- The tenants with at least one webhook endpoint: where the delivery
-- worker looks for pending deliveries when it starts, instead of opening
-- every tenant's database.
CREATE TABLE webhook_tenants (
  tenant_id   TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE
) WITHOUT ROWID;

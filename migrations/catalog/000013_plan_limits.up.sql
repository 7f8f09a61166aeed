-- A tenant's storage quota and user limit follow its plan's definition
-- (the plans file can change them for every tenant of a plan) unless an
-- operator set one for this tenant: limits_custom's bit 1 marks a custom
-- storage_quota, bit 2 a custom user_limit. The columns keep the values
-- last written; the catalog reads a plan's limit where its bit is clear.
-- Rows from before are marked by catalog.Open from the plans it runs with
-- (meta key limits_custom_backfilled): a value that differs from its
-- plan's was set by an operator.
ALTER TABLE tenants ADD COLUMN limits_custom INTEGER NOT NULL DEFAULT 0;

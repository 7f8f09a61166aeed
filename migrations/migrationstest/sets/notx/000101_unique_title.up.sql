-- condo:no-transaction
-- Like the unique set, but outside a transaction: a tenant whose data
-- violates it is left dirty.
CREATE UNIQUE INDEX content_unique_title ON content (collection_id, title);

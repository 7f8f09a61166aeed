-- Fails on a tenant with two items of one collection sharing a title.
CREATE UNIQUE INDEX content_unique_title ON content (collection_id, title);

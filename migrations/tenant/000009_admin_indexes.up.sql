-- Lists sorted by last change (the admin's "Updated" column, SonicJS's
-- sort=-updated_at) read this index in order instead of sorting every
-- item of the collection: 18 ms at p95 for 10,000 items without it, the
-- admin's target being 10 ms (admin's BenchmarkAdminContentList).
CREATE INDEX content_updated ON content (collection_id, deleted_at, updated_at, id);

-- The dashboard's items by status (cms.StatusCounts) count this index
-- rather than read every item's row.
CREATE INDEX content_status ON content (deleted_at, status);

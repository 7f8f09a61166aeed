-- The CMS's expression indexes (cx_<collection>__<field>) use deleted_at,
-- dropped below: park them first; the up file restores them.
-- condo:park-indexes content cx_
-- What the columns dropped below hold is parked too, so that going up
-- again brings back the trash, schedules and checksums.
CREATE TABLE condo_parked_content AS
  SELECT id, publish_at, unpublish_at, deleted_at, updated_by FROM content
  WHERE publish_at IS NOT NULL OR unpublish_at IS NOT NULL OR deleted_at IS NOT NULL OR updated_by IS NOT NULL;
CREATE TABLE condo_parked_media AS SELECT id, sha256 FROM media WHERE sha256 != '';
ALTER TABLE media DROP COLUMN sha256;
DROP TRIGGER content_fts_update;
DROP TRIGGER content_fts_delete;
DROP TRIGGER content_fts_insert;
DROP TABLE content_fts;
CREATE TABLE content_versions_old (
  id         TEXT PRIMARY KEY,
  content_id TEXT NOT NULL REFERENCES content (id) ON DELETE CASCADE,
  version    INTEGER NOT NULL,
  data       TEXT NOT NULL CHECK (json_valid(data)),
  author_id  TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (content_id, version)
);
INSERT INTO content_versions_old SELECT content_id || '.' || version, content_id, version, data, author_id, created_at FROM content_versions;
DROP TABLE content_versions;
ALTER TABLE content_versions_old RENAME TO content_versions;
DROP INDEX content_trash;
DROP INDEX content_unpublish_at;
DROP INDEX content_publish_at;
DROP INDEX content_list;
CREATE INDEX content_author ON content (author_id);
CREATE INDEX content_collection_status ON content (collection_id, status, created_at);
ALTER TABLE content DROP COLUMN search_text;
ALTER TABLE content DROP COLUMN updated_by;
ALTER TABLE content DROP COLUMN version;
ALTER TABLE content DROP COLUMN deleted_at;
ALTER TABLE content DROP COLUMN unpublish_at;
ALTER TABLE content DROP COLUMN publish_at;

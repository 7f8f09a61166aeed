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

-- Content capabilities: scheduled publishing, the trash, version numbers,
-- full-text search and media checksums. Every index here is paid for on
-- each write, so there are few: lists page by (collection, created_at, id)
-- over live items, and indexed schema fields add their own.
ALTER TABLE content ADD COLUMN publish_at INTEGER;
ALTER TABLE content ADD COLUMN unpublish_at INTEGER;
ALTER TABLE content ADD COLUMN deleted_at INTEGER; -- in the trash since
ALTER TABLE content ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE content ADD COLUMN updated_by TEXT;
-- The text of the item's data that search indexes (tags stripped).
ALTER TABLE content ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

DROP INDEX content_collection_status; -- content_list serves the same lists
DROP INDEX content_author;            -- only user deletion needed it
CREATE INDEX content_list ON content (collection_id, deleted_at, created_at, id);
CREATE INDEX content_publish_at ON content (publish_at) WHERE publish_at IS NOT NULL;
CREATE INDEX content_unpublish_at ON content (unpublish_at) WHERE unpublish_at IS NOT NULL;
CREATE INDEX content_trash ON content (deleted_at) WHERE deleted_at IS NOT NULL;

-- One b-tree for versions instead of three: keyed by item and number.
CREATE TABLE content_versions_new (
  content_id TEXT NOT NULL REFERENCES content (id) ON DELETE CASCADE,
  version    INTEGER NOT NULL,
  data       TEXT NOT NULL CHECK (json_valid(data)),
  author_id  TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (content_id, version)
) WITHOUT ROWID;
INSERT INTO content_versions_new SELECT content_id, version, data, author_id, created_at FROM content_versions;
DROP TABLE content_versions;
ALTER TABLE content_versions_new RENAME TO content_versions;

-- Full-text search over live items' titles and text, an external-content
-- FTS5 index kept in step by triggers (so any write, from any client,
-- keeps it right). It addresses items by content's rowid. It indexes live
-- items only: after any 'rebuild' (which indexes every row), remove the
-- trashed ones with INSERT INTO content_fts (content_fts, rowid, title,
-- search_text) SELECT 'delete', rowid, title, search_text FROM content
-- WHERE deleted_at IS NOT NULL.
UPDATE content SET search_text = coalesce((SELECT group_concat(value, ' ') FROM json_tree(content.data) WHERE type = 'text'), '');
CREATE VIRTUAL TABLE content_fts USING fts5(title, search_text, content = 'content', content_rowid = 'rowid',
  tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO content_fts (content_fts) VALUES ('rebuild');
-- Rank by BM25 with titles weighing ten times the text. As the table's
-- rank, FTS5 hands matches over already ordered, so a search stops at
-- its LIMIT instead of sorting every match.
INSERT INTO content_fts (content_fts, rank) VALUES ('rank', 'bm25(10.0, 1.0)');
CREATE TRIGGER content_fts_insert AFTER INSERT ON content WHEN new.deleted_at IS NULL BEGIN
  INSERT INTO content_fts (rowid, title, search_text) VALUES (new.rowid, new.title, new.search_text);
END;
CREATE TRIGGER content_fts_delete AFTER DELETE ON content WHEN old.deleted_at IS NULL BEGIN
  INSERT INTO content_fts (content_fts, rowid, title, search_text) VALUES ('delete', old.rowid, old.title, old.search_text);
END;
CREATE TRIGGER content_fts_update AFTER UPDATE OF title, search_text, deleted_at ON content BEGIN
  INSERT INTO content_fts (content_fts, rowid, title, search_text)
    SELECT 'delete', old.rowid, old.title, old.search_text WHERE old.deleted_at IS NULL;
  INSERT INTO content_fts (rowid, title, search_text)
    SELECT new.rowid, new.title, new.search_text WHERE new.deleted_at IS NULL;
END;

ALTER TABLE media ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';

-- Coming back up after a rollback (000003's down file): item versions
-- continue from their history, what the down file parked returns (the
-- trash through the FTS triggers above, which take trashed items out of
-- the index), and so do the CMS's expression indexes.
-- condo:restore-indexes content cx_
UPDATE content SET version = (SELECT max(version) FROM content_versions WHERE content_id = content.id)
  WHERE EXISTS (SELECT 1 FROM content_versions WHERE content_id = content.id);
CREATE TABLE IF NOT EXISTS condo_parked_content (id, publish_at, unpublish_at, deleted_at, updated_by);
UPDATE content SET publish_at = p.publish_at, unpublish_at = p.unpublish_at, deleted_at = p.deleted_at, updated_by = p.updated_by
  FROM condo_parked_content AS p WHERE p.id = content.id;
DROP TABLE condo_parked_content;
CREATE TABLE IF NOT EXISTS condo_parked_media (id, sha256);
UPDATE media SET sha256 = p.sha256 FROM condo_parked_media AS p WHERE p.id = media.id;
DROP TABLE condo_parked_media;

-- Back to 000003's index: two columns, no prefix index, no terms table.
DROP TRIGGER content_fts_update;
DROP TRIGGER content_fts_delete;
DROP TRIGGER content_fts_insert;
DROP TABLE content_fts_terms;
DROP TABLE content_fts;
ALTER TABLE content DROP COLUMN search_vis;
CREATE VIRTUAL TABLE content_fts USING fts5(title, search_text, content = 'content', content_rowid = 'rowid',
  tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO content_fts (content_fts) VALUES ('rebuild');
INSERT INTO content_fts (content_fts, rowid, title, search_text)
  SELECT 'delete', rowid, title, search_text FROM content WHERE deleted_at IS NOT NULL;
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

-- Back to 000006: one full-text index.
DROP TRIGGER content_fts_update;
DROP TRIGGER content_fts_delete;
DROP TRIGGER content_fts_insert;
DROP TABLE content_fts_recent;
DROP TABLE search_recent;
CREATE TRIGGER content_fts_insert AFTER INSERT ON content WHEN new.deleted_at IS NULL BEGIN
  INSERT INTO content_fts (rowid, title, search_text, search_vis) VALUES (new.rowid, new.title, new.search_text, new.search_vis);
END;
CREATE TRIGGER content_fts_delete AFTER DELETE ON content WHEN old.deleted_at IS NULL BEGIN
  INSERT INTO content_fts (content_fts, rowid, title, search_text, search_vis) VALUES ('delete', old.rowid, old.title, old.search_text, old.search_vis);
END;
CREATE TRIGGER content_fts_update AFTER UPDATE OF title, search_text, deleted_at, status, collection_id ON content BEGIN
  INSERT INTO content_fts (content_fts, rowid, title, search_text, search_vis)
    SELECT 'delete', old.rowid, old.title, old.search_text, old.search_vis WHERE old.deleted_at IS NULL;
  INSERT INTO content_fts (rowid, title, search_text, search_vis)
    SELECT new.rowid, new.title, new.search_text, new.search_vis WHERE new.deleted_at IS NULL;
END;

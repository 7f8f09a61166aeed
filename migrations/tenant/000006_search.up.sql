-- Search that scales with items. Three changes to content_fts (000003):
--
-- * search_vis, a virtual generated column of content (computed, never
--   stored) that the index holds as a third column: the token unpublished
--   for items not published, and c<hex of the collection id> for the
--   collection, each after U+E000 (a private-use character, which the
--   tokenizer keeps in a token and a search never has in its words, so
--   no search word matches these tokens). A search can then leave out
--   hidden items, or keep one collection, inside the FTS5 query (NOT
--   search_vis tokens), walking only the index instead of joining every
--   match to its item and its collection. The SQL conditions on the
--   returned items stay as well.
-- * prefix = '2 3': the last word of a search is a prefix; FTS5 answers a
--   two- or three-character prefix from this index instead of merging the
--   doclists of every term that starts with it.
-- * content_fts_terms, the index's terms (fts5vocab, stores nothing), so
--   a longer last word can be expanded to the terms that start with it
--   and matched as those terms, which FTS5 reads lazily newest first.
--
-- The triggers keep the index right for any writer, as before; they also
-- follow status and collection changes now. Like 000003's, the index holds
-- live items only.
DROP TRIGGER content_fts_update;
DROP TRIGGER content_fts_delete;
DROP TRIGGER content_fts_insert;
DROP TABLE content_fts;
ALTER TABLE content ADD COLUMN search_vis TEXT GENERATED ALWAYS AS
  (CASE WHEN status = 'published' THEN '' ELSE char(57344) || 'unpublished ' END || char(57344) || 'c' || hex(collection_id)) VIRTUAL;
CREATE VIRTUAL TABLE content_fts USING fts5(title, search_text, search_vis, content = 'content', content_rowid = 'rowid',
  tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
INSERT INTO content_fts (content_fts) VALUES ('rebuild');
INSERT INTO content_fts (content_fts, rowid, title, search_text, search_vis)
  SELECT 'delete', rowid, title, search_text, search_vis FROM content WHERE deleted_at IS NOT NULL;
-- BM25, titles ten times the text; search_vis never counts.
INSERT INTO content_fts (content_fts, rank) VALUES ('rank', 'bm25(10.0, 1.0, 0.0)');
CREATE VIRTUAL TABLE content_fts_terms USING fts5vocab(content_fts, instance);
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

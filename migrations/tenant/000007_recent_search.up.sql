-- A second full-text index of the newest items only, for ranking the
-- searches of common words. A search ranks its newest cms.RankWindow
-- visible matches with BM25, which first counts, for each phrase, every
-- document of the whole index that holds it (its IDF): for a word in
-- nearly every one of 100,000 items that count alone took 5.6 ms, more
-- than the rest of the search. When the window lies among the newest
-- items (always so for a word in more than one item in ten), the search
-- ranks it in content_fts_recent instead, whose doclists hold at most
-- the newest 20,000 rowids: the ranked window of such a word fell from
-- 8.1 to 2.6 ms (docs/PERFORMANCE.md). Its BM25 statistics (item count,
-- average length, IDF) are those of the newest items.
--
-- content_fts_recent is content_fts restricted to rowids above
-- search_recent.floor (live items only, like content_fts, with the same
-- prefix index; a longer last word is matched there as the terms
-- content_fts_terms expanded it to). The triggers keep it for any writer,
-- as they keep content_fts. Every 10,000 new rowids the trim
-- trigger moves the floor up by 10,000 and deletes what fell below it,
-- so the index holds 10,000 to 20,000 rowids.
CREATE TABLE search_recent (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  floor INTEGER NOT NULL
);
INSERT INTO search_recent (id, floor) SELECT 1, max(0, coalesce(max(rowid), 0) - 10000) FROM content;
CREATE VIRTUAL TABLE content_fts_recent USING fts5(title, search_text, search_vis, content = 'content', content_rowid = 'rowid',
  tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
INSERT INTO content_fts_recent (rowid, title, search_text, search_vis)
  SELECT rowid, title, search_text, search_vis FROM content
  WHERE deleted_at IS NULL AND rowid > (SELECT floor FROM search_recent);
INSERT INTO content_fts_recent (content_fts_recent, rank) VALUES ('rank', 'bm25(10.0, 1.0, 0.0)');
DROP TRIGGER content_fts_insert;
DROP TRIGGER content_fts_delete;
DROP TRIGGER content_fts_update;
CREATE TRIGGER content_fts_insert AFTER INSERT ON content WHEN new.deleted_at IS NULL BEGIN
  INSERT INTO content_fts (rowid, title, search_text, search_vis) VALUES (new.rowid, new.title, new.search_text, new.search_vis);
  INSERT INTO content_fts_recent (rowid, title, search_text, search_vis)
    SELECT new.rowid, new.title, new.search_text, new.search_vis WHERE new.rowid > (SELECT floor FROM search_recent);
END;
CREATE TRIGGER content_fts_delete AFTER DELETE ON content WHEN old.deleted_at IS NULL BEGIN
  INSERT INTO content_fts (content_fts, rowid, title, search_text, search_vis) VALUES ('delete', old.rowid, old.title, old.search_text, old.search_vis);
  INSERT INTO content_fts_recent (content_fts_recent, rowid, title, search_text, search_vis)
    SELECT 'delete', old.rowid, old.title, old.search_text, old.search_vis WHERE old.rowid > (SELECT floor FROM search_recent);
END;
CREATE TRIGGER content_fts_update AFTER UPDATE OF title, search_text, deleted_at, status, collection_id ON content BEGIN
  INSERT INTO content_fts (content_fts, rowid, title, search_text, search_vis)
    SELECT 'delete', old.rowid, old.title, old.search_text, old.search_vis WHERE old.deleted_at IS NULL;
  INSERT INTO content_fts (rowid, title, search_text, search_vis)
    SELECT new.rowid, new.title, new.search_text, new.search_vis WHERE new.deleted_at IS NULL;
  INSERT INTO content_fts_recent (content_fts_recent, rowid, title, search_text, search_vis)
    SELECT 'delete', old.rowid, old.title, old.search_text, old.search_vis
    WHERE old.deleted_at IS NULL AND old.rowid > (SELECT floor FROM search_recent);
  INSERT INTO content_fts_recent (rowid, title, search_text, search_vis)
    SELECT new.rowid, new.title, new.search_text, new.search_vis
    WHERE new.deleted_at IS NULL AND new.rowid > (SELECT floor FROM search_recent);
END;
-- Once every 10,000 rowids; correct in either order with
-- content_fts_insert (the new row is never below the new floor).
CREATE TRIGGER content_fts_recent_trim AFTER INSERT ON content
  WHEN new.rowid >= (SELECT floor FROM search_recent) + 20000 BEGIN
  INSERT INTO content_fts_recent (content_fts_recent, rowid, title, search_text, search_vis)
    SELECT 'delete', rowid, title, search_text, search_vis FROM content
    WHERE deleted_at IS NULL AND rowid > (SELECT floor FROM search_recent) AND rowid <= new.rowid - 10000;
  UPDATE search_recent SET floor = new.rowid - 10000;
END;

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
-- content_fts_terms expanded it to). It is kept only for big tenants:
-- floor is NULL, and the index empty, until the first insert of rowid
-- 20,000 or more, which fills it with the rowids above floor = rowid -
-- 10,000 (10,000 items once), so a small tenant's writes index their
-- text once, as before. From then on the triggers keep it for any writer,
-- as they keep content_fts, and every 10,000 new rowids the insert
-- trigger moves the floor up by 10,000 and deletes what fell below it:
-- the index holds 10,000 to 20,000 rowids. All of this is in one trigger
-- per event, whose statements run in order (the order in which SQLite
-- fires several triggers of one event is not documented).
CREATE TABLE search_recent (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  floor INTEGER
);
INSERT INTO search_recent (id, floor)
  SELECT 1, CASE WHEN max(rowid) >= 20000 THEN max(rowid) - 10000 END FROM content;
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
  -- The tenant became big: the newest 10,000 rowids before this one.
  -- (Each condition is folded into the rowid range, which is then empty
  -- when it is false: SQLite would otherwise scan the range and test it
  -- on every row.)
  INSERT INTO content_fts_recent (rowid, title, search_text, search_vis)
    SELECT rowid, title, search_text, search_vis FROM content
    WHERE rowid > CASE WHEN new.rowid >= 20000 AND (SELECT floor FROM search_recent) IS NULL THEN new.rowid - 10000 ELSE new.rowid END
      AND rowid < new.rowid AND deleted_at IS NULL;
  -- 20,000 rowids above the floor: what falls below the new one goes.
  INSERT INTO content_fts_recent (content_fts_recent, rowid, title, search_text, search_vis)
    SELECT 'delete', rowid, title, search_text, search_vis FROM content
    WHERE rowid > (SELECT floor FROM search_recent)
      AND rowid <= CASE WHEN new.rowid >= (SELECT floor FROM search_recent) + 20000 THEN new.rowid - 10000 ELSE (SELECT floor FROM search_recent) END
      AND deleted_at IS NULL;
  UPDATE search_recent SET floor = new.rowid - 10000
    WHERE new.rowid >= 20000 AND (floor IS NULL OR new.rowid >= floor + 20000);
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

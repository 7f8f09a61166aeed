package cms_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"

	"github.com/condohq/condo/cms"
)

// TestSearchRecentIndex: content_fts_recent (migration 000007) stays
// empty in a small tenant; from rowid 20,000 it holds exactly
// content_fts's rows above search_recent.floor, whatever writes them (raw
// SQL here), through inserts, the trim every 10,000 rowids, edits, trash,
// restore, unpublishing and purges; and a common word's search is ranked
// there, a rare word's in the whole index.
func TestSearchRecentIndex(t *testing.T) {
	ctx := context.Background()
	_, stores := newContent(t, "recent")
	st := stores["recent"]
	col, _ := st.Collection(ctx, "posts")
	db := st.DB
	// Items from rowid from to to; one in 10,000 holds the rare word.
	insert := func(from, to int) {
		tx, err := db.Writer().Begin()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		for i := from; i <= to; i++ {
			text := fmt.Sprintf("common w%d", i%7)
			if i%10_000 == 5 {
				text += " rareword"
			}
			if _, err := tx.Exec(`INSERT INTO content (id, collection_id, slug, title, search_text, status, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, 'published', ?, ?)`, fmt.Sprintf("i%05d", i), col.ID, fmt.Sprintf("s%05d", i), fmt.Sprintf("Item %d", i), text, i, i); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	floor := func() int64 {
		var f sql.NullInt64
		if err := db.Reader().QueryRow(`SELECT floor FROM search_recent`).Scan(&f); err != nil {
			t.Fatal(err)
		}
		if !f.Valid {
			return -1
		}
		return f.Int64
	}
	rowids := func(table, q string, above int64) []int64 {
		t.Helper()
		rows, err := db.Reader().Query(`SELECT rowid FROM `+table+`(?) WHERE rowid > ? ORDER BY rowid`, q, above)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			out = append(out, id)
		}
		return out
	}
	same := func(step string) {
		t.Helper()
		f := floor()
		for _, q := range []string{"common", "w3", "rareword", "item", "changed"} {
			full, recent := rowids("content_fts", q, f), rowids("content_fts_recent", q, -1)
			if !slices.Equal(full, recent) {
				t.Fatalf("%s: %q above floor %d: content_fts has %d rows, content_fts_recent %d", step, q, f, len(full), len(recent))
			}
		}
	}
	// A small tenant keeps no recent index.
	insert(1, 19_999)
	var n int
	if err := db.Reader().QueryRow(`SELECT count(*) FROM content_fts_recent('common')`).Scan(&n); err != nil || n != 0 || floor() != -1 {
		t.Fatalf("19,999 items: %d rows in content_fts_recent (%v), floor %d; want none and NULL", n, err, floor())
	}
	// Rowid 20,000 starts it (rowids above 10,000); rowid 30,000 trims it.
	insert(20_000, 29_999)
	if f := floor(); f != 10_000 {
		t.Fatalf("floor %d after rowid 20,000; want 10,000", f)
	}
	same("from rowid 20,000")
	insert(30_000, 30_000)
	if f := floor(); f != 20_000 {
		t.Fatalf("floor %d after rowid 30,000; want 20,000", f)
	}
	same("after a trim")
	for _, stmt := range []string{
		`UPDATE content SET title = 'changed' WHERE rowid IN (5, 20005)`,                  // below and above the floor
		`UPDATE content SET deleted_at = 1 WHERE rowid IN (6, 20006, 20007)`,              // trash
		`UPDATE content SET deleted_at = NULL WHERE rowid = 20007`,                        // restore
		`UPDATE content SET status = 'draft' WHERE rowid = 20008`,                         // unpublish
		`DELETE FROM content WHERE rowid IN (7, 20009)`,                                   // purge
		`UPDATE content SET search_text = search_text || ' rareword' WHERE rowid = 24000`, // edit
	} {
		if _, err := db.Writer().Exec(stmt); err != nil {
			t.Fatal(stmt, err)
		}
		same(stmt)
	}

	anon := cms.SearchOptions{PublishedOnly: true, PublicOnly: true}
	// A common word: its newest 1,000 matches lie above the floor, so its
	// ranks are content_fts_recent's.
	hits, err := st.Search(ctx, "common", anon)
	if err != nil || len(hits) != 20 {
		t.Fatalf("common: %d hits, %v", len(hits), err)
	}
	var bound int64
	if err := db.Reader().QueryRow(`SELECT rowid FROM content_fts('"common" NOT ` + "\ue000" + `unpublished') ORDER BY rowid DESC LIMIT 1 OFFSET 999`).Scan(&bound); err != nil {
		t.Fatal(err)
	}
	var want []float64
	rows, err := db.Reader().Query(`SELECT rank FROM content_fts_recent WHERE content_fts_recent MATCH '"common"' AND rowid >= ? ORDER BY rank LIMIT 20`, bound)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r float64
		rows.Scan(&r)
		want = append(want, r)
	}
	rows.Close()
	for i, h := range hits {
		if h.Rank != want[i] {
			t.Fatalf("common: hit %d rank %v, content_fts_recent's %v", i, h.Rank, want[i])
		}
	}
	// A rare word has fewer than RankWindow matches: all of them, from
	// the whole index, the trashed and purged ones left out.
	hits, err = st.Search(ctx, "rareword", anon)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, h := range hits {
		titles = append(titles, h.Title)
	}
	slices.Sort(titles)
	if !slices.Equal(titles, []string{"Item 10005", "Item 24000", "changed", "changed"}) {
		t.Fatalf("rareword: %v", titles)
	}
}

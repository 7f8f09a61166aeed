package cms

// The parts of a search and of a list over scripts/contentbench's
// 100,000-item tenant, timed one by one (see big_bench_test.go for the
// fixture; docs/PERFORMANCE.md records a run):
//
//	CONDO_BENCH_DIR=/tmp/perf-fixture/data go test -run '^$' -bench 'BigSearchParts|BigListParts' -benchtime 1x -v ./cms/
//
// CONDO_BENCH_PERWORD=1 adds each of the 10 most frequent words alone
// (the document count BM25 makes, Search, and ranking the window in Go
// from each item's text); CONDO_BENCH_CACHE_KIB
// tries another page cache size.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/internal/bigfixture"
)

func BenchmarkBigSearchParts(b *testing.B) {
	_, store, h := bigfixture.Open(b)
	ctx := context.Background()
	st := New("big", h.DB, store.MediaDir("big"))
	db := h.Reader()

	vocab := bigfixture.Vocabulary
	rng := rand.New(rand.NewPCG(3, 4))
	var common, rare []string
	for range 200 {
		rng.IntN(9800)
		common = append(common, vocab[rng.IntN(10)])
		rare = append(rare, vocab[1000+rng.IntN(2000)])
	}
	opt := SearchOptions{PublishedOnly: true, PublicOnly: true, Limit: 20}
	vis, _, err := st.visibility(ctx, opt)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("visibility clause %q", vis)
	count := func(q string, args ...any) int {
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	drain := func(q string, args ...any) int {
		rows, err := db.Query(q, args...)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		n := 0
		cols, _ := rows.Columns()
		dest := make([]any, len(cols))
		for i := range dest {
			dest[i] = new(sql.RawBytes)
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				b.Fatal(err)
			}
			n++
		}
		return n
	}
	if os.Getenv("CONDO_BENCH_PERWORD") != "" {
		for _, w := range bigfixture.Vocabulary[:10] {
			var n int
			start := time.Now()
			db.QueryRow(`SELECT count(*) FROM content_fts(?)`, `"`+w+`"`).Scan(&n)
			c := time.Since(start)
			start = time.Now()
			drain(`SELECT rowid, rank FROM content_fts WHERE content_fts MATCH ?1 AND rowid >= (SELECT max(rowid) - 10 FROM content) ORDER BY rank LIMIT 20`, `"`+w+`"`)
			idf := time.Since(start)
			start = time.Now()
			rows, err := db.Query(`SELECT c.rowid, c.title, c.search_text FROM content_fts(?2) f CROSS JOIN content c ON c.rowid = f.rowid WHERE f.rowid >= `+windowBound(true)+` ORDER BY f.rowid DESC`,
				`"`+w+`"`, `("`+w+`") `+vis)
			if err != nil {
				b.Fatal(err)
			}
			nrows, ntok, tf := 0, 0, 0
			for rows.Next() {
				var id int64
				var title, text sql.RawBytes
				rows.Scan(&id, &title, &text)
				nrows++
				for _, txt := range [][]byte{title, text} {
					i := 0
					for i < len(txt) {
						for i < len(txt) && !isAlnum(txt[i]) {
							i++
						}
						j := i
						for j < len(txt) && isAlnum(txt[j]) {
							j++
						}
						if j > i {
							ntok++
							if j-i == len(w) && strings.EqualFold(string(txt[i:j]), w) {
								tf++
							}
						}
						i = j
					}
				}
			}
			rows.Close()
			goRank := time.Since(start)
			start = time.Now()
			hits, _ := st.Search(ctx, w, opt)
			json.Marshal(hits)
			b.Logf("%-10s window %d rows, %d tokens, tf %d: read+tokenize %6.2f ms", w, nrows, ntok, tf, ms(goRank))
			b.Logf("%-10s in %6d items: count %6.2f ms, IDF pass %6.2f ms, Search %6.2f ms", w, n, ms(c), ms(idf), ms(time.Since(start)))
		}
	}
	for _, words := range []struct {
		name string
		list []string
	}{{"common", common}, {"rare", rare}} {
		var lasts []string
		for _, w := range words.list {
			l, err := st.lastWord(ctx, w)
			if err != nil {
				b.Fatal(err)
			}
			lasts = append(lasts, l)
		}
		b.Logf("%s: e.g. %q -> %q; matches of the first: %d", words.name, words.list[0], lasts[0],
			count(`SELECT count(*) FROM content_fts(?)`, lasts[0]))
		parts := []struct {
			name string
			run  func(i int)
		}{
			{"whole Search + JSON", func(i int) {
				hits, err := st.Search(ctx, words.list[i], opt)
				if err != nil {
					b.Fatal(err)
				}
				json.Marshal(hits)
			}},
			{"lastWord (expansion)", func(i int) { st.lastWord(ctx, words.list[i]) }},
			{"raw ranked, quoted word", func(i int) {
				drain(`SELECT rowid, rank FROM content_fts WHERE content_fts MATCH ? ORDER BY rank LIMIT 20`, `"`+words.list[i]+`"`)
			}},
			{"count(*) of the matches (IDF pass)", func(i int) { count(`SELECT count(*) FROM content_fts(?)`, lasts[i]) }},
			{"count of the quoted word alone", func(i int) { count(`SELECT count(*) FROM content_fts(?)`, `"`+words.list[i]+`"`) }},
			{"unfiltered 1000th newest (?1 bound)", func(i int) {
				drain(`SELECT rowid FROM content_fts(?) ORDER BY rowid DESC LIMIT 1 OFFSET 999`, lasts[i])
			}},
			{"visible 1000th newest (?2 bound)", func(i int) {
				drain(`SELECT rowid FROM content_fts(?) ORDER BY rowid DESC LIMIT 1 OFFSET 999`, "("+lasts[i]+") "+vis)
			}},
			{"window bound as Search runs it", func(i int) {
				drain(`SELECT `+windowBound(true), lasts[i], "("+lasts[i]+") "+vis)
			}},
			{"ranked window, rowid+rank only", func(i int) {
				drain(`SELECT rowid, rank FROM content_fts WHERE content_fts MATCH ?1 AND rowid >= `+windowBound(true)+` ORDER BY rank LIMIT 20`,
					lasts[i], "("+lasts[i]+") "+vis)
			}},
			{"ranked, newest 10 rowids only (IDF pass + 10 scores)", func(i int) {
				drain(`SELECT rowid, rank FROM content_fts WHERE content_fts MATCH ?1 AND rowid >= (SELECT max(rowid) - 10 FROM content) ORDER BY rank LIMIT 20`, lasts[i])
			}},
			{"ranked window, bm25 by rowid order (no sort)", func(i int) {
				drain(`SELECT rowid, bm25(content_fts, 10.0, 1.0, 0.0) FROM content_fts WHERE content_fts MATCH ?1 AND rowid >= `+windowBound(true)+` ORDER BY rowid DESC`,
					lasts[i], "("+lasts[i]+") "+vis)
			}},
			{"window rows, no rank, rowid order", func(i int) {
				drain(`SELECT rowid FROM content_fts WHERE content_fts MATCH ?1 AND rowid >= `+windowBound(true)+` ORDER BY rowid DESC`,
					lasts[i], "("+lasts[i]+") "+vis)
			}},
			{"window docsize rows", func(i int) {
				drain(`SELECT id, sz FROM content_fts_docsize WHERE id >= `+windowBound(true), lasts[i], "("+lasts[i]+") "+vis)
			}},
			{"ranked window + join", func(i int) {
				drain(`SELECT `+itemColumns+`, content_fts.rank FROM content_fts CROSS JOIN content c ON c.rowid = content_fts.rowid
					CROSS JOIN collections col ON col.id = c.collection_id WHERE content_fts MATCH ?1 AND c.deleted_at IS NULL AND c.status = 'published' AND col.is_public = 1
					AND content_fts.rowid >= `+windowBound(true)+` ORDER BY content_fts.rank LIMIT 20`, lasts[i], "("+lasts[i]+") "+vis)
			}},
			{"ranked window + join + snippet", func(i int) {
				drain(`SELECT `+itemColumns+`, snippet(content_fts, -1, '<mark>', '</mark>', '…', 16), content_fts.rank FROM content_fts CROSS JOIN content c ON c.rowid = content_fts.rowid
					CROSS JOIN collections col ON col.id = c.collection_id WHERE content_fts MATCH ?1 AND c.deleted_at IS NULL AND c.status = 'published' AND col.is_public = 1
					AND content_fts.rowid >= `+windowBound(true)+` ORDER BY content_fts.rank LIMIT 20`, lasts[i], "("+lasts[i]+") "+vis)
			}},
		}
		for _, p := range parts {
			ds := make([]time.Duration, 0, len(words.list))
			for i := range words.list {
				start := time.Now()
				p.run(i)
				ds = append(ds, time.Since(start))
			}
			slices.Sort(ds)
			b.Logf("%-7s %-40s p50 %7.3f ms  p99 %7.3f ms", words.name, p.name, ms(ds[len(ds)/2]), ms(ds[len(ds)*99/100]))
		}
	}
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func BenchmarkBigListParts(b *testing.B) {
	_, store, h := bigfixture.Open(b)
	ctx := context.Background()
	st := New("big", h.DB, store.MediaDir("big"))
	col, err := st.Collection(ctx, "posts")
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var qs []*ListQuery
	for range 300 {
		lo := rng.IntN(9800)
		rng.IntN(10)
		rng.IntN(2000)
		where := fmt.Sprintf(`{"and":[{"field":"data.price","operator":"greater_than_equal","value":%d},{"field":"data.price","operator":"less_than","value":%d}]}`, lo, lo+100)
		q, err := ParseListQuery(map[string][]string{"limit": {"20"}, "sort": {"-data.price"}, "where": {where}}, col.Schema)
		if err != nil {
			b.Fatal(err)
		}
		qs = append(qs, q)
	}
	opt := ListOptions{CollectionID: col.ID}
	s0, _ := qs[0].statements(opt)
	for _, q := range []string{s0.count, s0.page} {
		rows, err := h.Reader().Query("EXPLAIN QUERY PLAN "+q, append([]any{}, s0.pageArgs...)[:strings.Count(q, "?")]...)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var id, parent, x int
			var detail string
			rows.Scan(&id, &parent, &x, &detail)
			b.Logf("plan: %s", detail)
		}
		rows.Close()
	}
	var pages []*Page
	parts := []struct {
		name string
		run  func(q *ListQuery)
	}{
		{"List (counted)", func(q *ListQuery) {
			p, err := st.List(ctx, q, opt)
			if err != nil {
				b.Fatal(err)
			}
			pages = append(pages, p)
		}},
		{"count alone", func(q *ListQuery) {
			s, _ := q.statements(opt)
			var n int
			h.Reader().QueryRow(s.count, s.countArgs...).Scan(&n)
		}},
		{"page alone", func(q *ListQuery) {
			s, _ := q.statements(opt)
			rows, _ := h.Reader().Query(s.page, s.pageArgs...)
			for rows.Next() {
			}
			rows.Close()
		}},
	}
	for _, p := range parts {
		ds := make([]time.Duration, 0, len(qs))
		for _, q := range qs {
			start := time.Now()
			p.run(q)
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		b.Logf("%-30s p50 %7.3f ms  p99 %7.3f ms", p.name, ms(ds[len(ds)/2]), ms(ds[len(ds)*99/100]))
	}
	ds := make([]time.Duration, 0, len(pages))
	for _, p := range pages {
		start := time.Now()
		json.Marshal(map[string]any{"data": p.Items, "meta": map[string]any{"total": p.Total}})
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	b.Logf("%-30s p50 %7.3f ms  p99 %7.3f ms", "JSON of the page", ms(ds[len(ds)/2]), ms(ds[len(ds)*99/100]))
}

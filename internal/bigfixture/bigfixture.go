// Package bigfixture is what scripts/contentbench's 100,000-item tenant
// is made of and asked: its vocabulary and its seeded request lists, shared
// by contentbench (which builds the tenant and loads it over HTTP) and the
// in-process benchmarks of cms and api over the same file.
package bigfixture

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
)

// Vocabulary is the big tenant's words, most frequent first: 3,000
// made-up words of two to four syllables, drawn with Zipf(1.0) frequencies
// like a natural language's (the first is in almost every item, the
// 3,000th in about one in 500).
var Vocabulary = func() []string {
	rng := rand.New(rand.NewPCG(5, 6))
	cons, vows := strings.Split("b c d f g h k l m n p r s t v z br st tr pl", " "), strings.Split("a e i o u ai ou", " ")
	seen := map[string]bool{}
	var out []string
	for len(out) < 3000 {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteString(cons[rng.IntN(len(cons))] + vows[rng.IntN(len(vows))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}()

// Queries are the seeded request lists, 2,000 of each: where= values of
// a random 1% price range (the collection posts has an indexed price),
// one of the 10 most frequent words, and a word of frequency rank 1,000
// to 3,000.
func Queries() (lists, common, rare []string) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		lo := rng.IntN(9800)
		lists = append(lists, fmt.Sprintf(`{"and":[{"field":"data.price","operator":"greater_than_equal","value":%d},{"field":"data.price","operator":"less_than","value":%d}]}`, lo, lo+100))
		common = append(common, Vocabulary[rng.IntN(10)])
		rare = append(rare, Vocabulary[1000+rng.IntN(2000)])
	}
	return lists, common, rare
}

// Open opens tenant big of the fixture in CONDO_BENCH_DIR as serve does
// (tenantstore, migrated to this build's schema on Acquire), for the
// in-process benchmarks; without CONDO_BENCH_DIR the benchmark is skipped
// (a benchmark runs only when asked for with -bench). CONDO_BENCH_CACHE_KIB
// tries another page cache size per connection.
func Open(b *testing.B) (*catalog.Catalog, *tenantstore.Store, *tenantstore.Handle) {
	b.Helper()
	dir := os.Getenv("CONDO_BENCH_DIR")
	if dir == "" {
		b.Skip("CONDO_BENCH_DIR is not set: build the fixture with go run ./scripts/contentbench -build -dir DIR")
	}
	ctx := context.Background()
	cat, err := catalog.Open(ctx, dir, catalog.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cat.Close() })
	var dbo sqlitedb.Options
	if kib, err := strconv.Atoi(os.Getenv("CONDO_BENCH_CACHE_KIB")); err == nil {
		dbo.CacheKiB = kib
	}
	store := tenantstore.New(cat, tenantstore.Config{DataDir: dir, DB: dbo})
	b.Cleanup(func() { store.Close(context.Background()) })
	h, release, err := store.Acquire(ctx, "big")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(release)
	return cat, store, h
}

// RawSearch is the floor of a search: FTS5's own ranked query for word,
// every match scored, answering rowids and ranks as JSON.
func RawSearch(ctx context.Context, db *sql.DB, word string) ([]byte, error) {
	rows, err := db.QueryContext(ctx, `SELECT rowid, rank FROM content_fts WHERE content_fts MATCH ? ORDER BY rank LIMIT 20`, `"`+word+`"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type hit struct {
		ID   int64   `json:"id"`
		Rank float64 `json:"rank"`
	}
	out := []hit{}
	for rows.Next() {
		var x hit
		if err := rows.Scan(&x.ID, &x.Rank); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"data": out})
}

package cms_test

// Benchmarks over the 100,000-item tenant of scripts/contentbench, in
// process (no HTTP, no wrk), so that two builds can be compared side by
// side on a shared machine. Build the fixture once and keep it:
//
//	go run ./scripts/contentbench -build -dir /tmp/perf-fixture/data
//	CONDO_BENCH_DIR=/tmp/perf-fixture/data go test -run '^$' -bench Big -benchtime 400x ./cms/
//
// Without CONDO_BENCH_DIR they are skipped. Each one runs a fixed, seeded
// list of queries (the same draw as contentbench's wrk scripts) in turn
// and reports the p50 and p99 of a query; the 32-connection ones also run
// the raw ranked FTS5 query on the same handle and report the ratio of
// the requests per second.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/internal/bigfixture"
)

// openBig opens tenant big of CONDO_BENCH_DIR with a content cache, and
// returns the raw ranked query beside it.
func openBig(b *testing.B) (*cms.Store, func(ctx context.Context, word string) error) {
	_, store, h := bigfixture.Open(b)
	st := cms.NewCache(10_000, time.Hour, nil).Store("big", h.DB, store.MediaDir("big"))
	raw := func(ctx context.Context, word string) error {
		_, err := bigfixture.RawSearch(ctx, h.Reader(), word)
		return err
	}
	return st, raw
}

// quantiles reports the p50 and p99 of ds, in ms.
func quantiles(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	q := func(p float64) float64 { return float64(ds[int(p*float64(len(ds)-1))]) / 1e6 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// sequential runs b.N queries one after the other, the i-th on
// queries[i % len], and reports their quantiles.
func sequential(b *testing.B, queries []string, run func(ctx context.Context, q string) error) {
	ctx := context.Background()
	ds := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		start := time.Now()
		if err := run(ctx, queries[i%len(queries)]); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
		i++
	}
	quantiles(b, ds)
}

// concurrent runs n queries on conns goroutines, each taking the next of
// queries, and returns the queries per second.
func concurrent(b *testing.B, conns, n int, queries []string, run func(ctx context.Context, q string) error) float64 {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for range conns {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := run(ctx, queries[i%len(queries)]); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	return float64(n) / time.Since(start).Seconds()
}

// BenchmarkBigSearch: anonymous searches (published items of public
// collections), limit 20, with the JSON the API writes.
func BenchmarkBigSearch(b *testing.B) {
	st, raw := openBig(b)
	_, common, rare := bigfixture.Queries()
	search := func(ctx context.Context, q string) error {
		hits, err := st.Search(ctx, q, cms.SearchOptions{PublishedOnly: true, PublicOnly: true, Limit: 20})
		if err != nil {
			return err
		}
		if len(hits) == 0 {
			return fmt.Errorf("no hit for %q", q)
		}
		_, err = json.Marshal(map[string]any{"data": hits, "meta": map[string]any{"count": len(hits), "q": q}})
		return err
	}
	for _, words := range []struct {
		name    string
		queries []string
	}{{"common", common}, {"rare", rare}} {
		b.Run(words.name+"/1conn", func(b *testing.B) { sequential(b, words.queries, search) })
		b.Run(words.name+"/raw1conn", func(b *testing.B) { sequential(b, words.queries, raw) })
		// b.N queries of each, Condo's and the raw one, 32 at a time.
		b.Run(words.name+"/32conns", func(b *testing.B) {
			b.StopTimer() // the ratio is the figure; ns/op means nothing here
			n := max(b.N, 32)
			floor := concurrent(b, 32, n, words.queries, raw)
			condo := concurrent(b, 32, n, words.queries, search)
			b.ReportMetric(condo, "req/s")
			b.ReportMetric(floor, "raw-req/s")
			b.ReportMetric(condo/floor, "x-raw")
		})
	}
}

// BenchmarkBigList: a filtered (1% price range), sorted list of 20,
// signed in, with meta.total, as GET /api/collections/posts/content does
// it in process: the cached collection, the query parsed, the page, the
// JSON. Once with every total counted (first seen), once with the totals
// remembered (the second pass over the same ranges).
func BenchmarkBigList(b *testing.B) {
	st, _ := openBig(b)
	lists, _, _ := bigfixture.Queries()
	list := func(ctx context.Context, where string) error {
		col, err := st.CachedCollection(ctx, "posts")
		if err != nil {
			return err
		}
		q, err := cms.ParseListQuery(url.Values{"limit": {"20"}, "sort": {"-data.price"}, "where": {where}}, col.Schema)
		if err != nil {
			return err
		}
		page, err := st.List(ctx, q, cms.ListOptions{CollectionID: col.ID})
		if err != nil {
			return err
		}
		if len(page.Items) != 20 {
			return fmt.Errorf("%d items", len(page.Items))
		}
		meta := map[string]any{"total": page.Total, "limit": page.Limit, "offset": page.Offset}
		if page.NextCursor != "" {
			meta["next_cursor"] = page.NextCursor
		}
		_, err = json.Marshal(map[string]any{"data": page.Items, "meta": meta})
		return err
	}
	// Distinct ranges for the first pass: 2,000 of them; -benchtime over
	// 2,000x repeats them.
	b.Run("1conn/counted", func(b *testing.B) { sequential(b, lists, list) })
	b.Run("1conn/total-cached", func(b *testing.B) { sequential(b, lists, list) })
	b.Run("32conns", func(b *testing.B) {
		b.StopTimer()
		b.ReportMetric(concurrent(b, 32, max(b.N, 32), lists, list), "req/s")
	})
}

// BenchmarkBigCreate creates items one at a time in the big tenant, as
// contentbench filled it (it changes the fixture: run it on a copy).
func BenchmarkBigCreate(b *testing.B) {
	st, _ := openBig(b)
	ctx := context.Background()
	col, err := st.Collection(ctx, "posts")
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	words := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = bigfixture.Vocabulary[int(float64(len(bigfixture.Vocabulary))*rng.Float64()*rng.Float64()*rng.Float64())]
		}
		return strings.Join(w, " ")
	}
	start := time.Now()
	for b.Loop() {
		if _, err := st.CreateItem(ctx, col, cms.ItemInput{Title: "New " + words(3), Status: cms.StatusPublished,
			Data: map[string]any{"body": "<p>" + words(40) + "</p>", "price": rng.Float64() * 1000, "kind": "news"}}, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "items/s")
}

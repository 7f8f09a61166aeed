package api_test

// Lists and searches through the whole API handler (tenant by Host, the
// token checked, the answer encoded), in process with
// httptest.NewRecorder, over scripts/contentbench's 100,000-item tenant
// (see cms/big_bench_test.go for the fixture):
//
//	CONDO_BENCH_DIR=/tmp/perf-fixture/data go test -run '^$' -bench BigHTTP -benchtime 400x ./api/

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/internal/bigfixture"
)

func BenchmarkBigHTTP(b *testing.B) {
	ctx := context.Background()
	cat, store, h := bigfixture.Open(b)
	id := auth.New("big", h.DB)
	u, err := id.CreateUser(ctx, auth.NewUser{Email: fmt.Sprintf("bench%d@example.com", time.Now().UnixNano()), Password: "bench password", Role: auth.RoleAdmin},
		auth.Limits{Users: 1000, Policy: auth.DefaultPasswordPolicy})
	if err != nil {
		b.Fatal(err)
	}
	_, token, err := id.CreateAPIToken(ctx, auth.NewAPIToken{Name: "bench", UserID: u.ID, Permissions: auth.MustPerms(auth.ContentRead, auth.ContentReadDrafts)})
	if err != nil {
		b.Fatal(err)
	}
	srv := api.New(cat, store, api.Config{})
	cold := api.New(cat, store, api.Config{ContentCache: -1})
	// The floor of a search: FTS5's own ranked query, every match scored,
	// rowids and ranks as JSON, on the same connections.
	raw := func(word string) error {
		_, err := bigfixture.RawSearch(ctx, h.Reader(), word)
		return err
	}
	serve := func(srv http.Handler, path, auth string) error {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host = "big.localhost"
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			return fmt.Errorf("%s: %d %s", path, w.Code, w.Body.String())
		}
		return nil
	}
	// concurrent runs n calls of do(i) on 32 goroutines; queries per second.
	concurrent := func(n int, do func(i int) error) float64 {
		var next atomic.Int64
		var wg sync.WaitGroup
		var failed atomic.Value
		start := time.Now()
		for range 32 {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					if err := do(i); err != nil {
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
	wheres, common, rare := bigfixture.Queries()
	run := func(b *testing.B, srv http.Handler, paths []string, auth string) {
		ds := make([]time.Duration, 0, b.N)
		i := 0
		for b.Loop() {
			req := httptest.NewRequest(http.MethodGet, paths[i%len(paths)], nil)
			req.Host = "big.localhost"
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			w := httptest.NewRecorder()
			start := time.Now()
			srv.ServeHTTP(w, req)
			ds = append(ds, time.Since(start))
			if w.Code != http.StatusOK {
				b.Fatal(w.Code, w.Body.String())
			}
			i++
		}
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2])/1e6, "p50-ms")
		b.ReportMetric(float64(ds[len(ds)*99/100])/1e6, "p99-ms")
	}
	var lists, commonPaths, rarePaths []string
	for i := range wheres {
		lists = append(lists, "/api/collections/posts/content?limit=20&sort=-data.price&where="+url.QueryEscape(wheres[i]))
		commonPaths = append(commonPaths, "/api/search?limit=20&q="+common[i])
		rarePaths = append(rarePaths, "/api/search?limit=20&q="+rare[i])
	}
	// Signed in, so no answer comes from the cache of anonymous reads; the
	// second pass finds its totals remembered.
	b.Run("list/counted", func(b *testing.B) { run(b, srv, lists, "Bearer "+token) })
	b.Run("list/total-cached", func(b *testing.B) { run(b, srv, lists, "Bearer "+token) })
	// Anonymous searches: cold (no answer cache: every search runs) and
	// with the answer cache, where a query repeated in the seeded list
	// (the 10 common words, and about a third of the rare draws) is served
	// from it.
	for _, words := range []struct {
		name  string
		words []string
		paths []string
	}{{"common", common, commonPaths}, {"rare", rare, rarePaths}} {
		b.Run("search/"+words.name+"/cold", func(b *testing.B) { run(b, cold, words.paths, "") })
		b.Run("search/"+words.name+"/answer-cache", func(b *testing.B) { run(b, srv, words.paths, "") })
		// b.N queries, 32 at a time, of the raw query and of /api/search,
		// cold and with a fresh answer cache.
		b.Run("search/"+words.name+"/32conns", func(b *testing.B) {
			b.StopTimer()
			n := max(b.N, 32)
			floor := concurrent(n, func(i int) error { return raw(words.words[i%len(words.words)]) })
			coldRPS := concurrent(n, func(i int) error { return serve(cold, words.paths[i%len(words.paths)], "") })
			fresh := api.New(cat, store, api.Config{})
			cached := concurrent(n, func(i int) error { return serve(fresh, words.paths[i%len(words.paths)], "") })
			b.ReportMetric(floor, "raw-req/s")
			b.ReportMetric(coldRPS/floor, "cold-x-raw")
			b.ReportMetric(cached/floor, "cached-x-raw")
		})
	}
	b.Run("list/32conns", func(b *testing.B) {
		b.StopTimer()
		b.ReportMetric(concurrent(max(b.N, 32), func(i int) error { return serve(srv, lists[i%len(lists)], "Bearer "+token) }), "req/s")
	})
}

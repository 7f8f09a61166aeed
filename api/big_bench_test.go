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
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/internal/bigfixture"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
)

func BenchmarkBigHTTP(b *testing.B) {
	dir := os.Getenv("CONDO_BENCH_DIR")
	if dir == "" {
		b.Skip("CONDO_BENCH_DIR is not set: build the fixture with go run ./scripts/contentbench -build -dir DIR")
	}
	ctx := context.Background()
	cat, err := catalog.Open(ctx, dir, catalog.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer cat.Close()
	// CONDO_BENCH_CACHE_KIB tries another page cache size per connection.
	var dbo sqlitedb.Options
	if kib, err := strconv.Atoi(os.Getenv("CONDO_BENCH_CACHE_KIB")); err == nil {
		dbo.CacheKiB = kib
	}
	store := tenantstore.New(cat, tenantstore.Config{DataDir: dir, DB: dbo})
	defer store.Close(context.Background())
	h, release, err := store.Acquire(ctx, "big")
	if err != nil {
		b.Fatal(err)
	}
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
	release()
	srv := api.New(cat, store, api.Config{})
	wheres, common, rare := bigfixture.Queries()
	run := func(b *testing.B, paths []string, auth string) {
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
	b.Run("list/counted", func(b *testing.B) { run(b, lists, "Bearer "+token) })
	b.Run("list/total-cached", func(b *testing.B) { run(b, lists, "Bearer "+token) })
	b.Run("search/common", func(b *testing.B) { run(b, commonPaths, "") })
	b.Run("search/rare", func(b *testing.B) { run(b, rarePaths, "") })
}

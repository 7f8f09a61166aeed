package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/plans"
)

// BenchmarkGetContent_Plans is BenchmarkGetContent/CacheOn side by side:
// NoRateLimit holds the tenant to a plan without a request rate (the
// limiter returns at once), RateLimit to one whose bucket never runs dry
// (every request spends a token).
//
//	go test ./api -run '^$' -bench GetContent_Plans -benchtime 2s -count 3
func BenchmarkGetContent_Plans(b *testing.B) {
	metered, err := plans.Parse([]byte("plans:\n  free:\n    requests_per_second: 1000000000\n    burst: 1000000000\n"))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		ps   *plans.Set
	}{{"NoRateLimit", plans.Builtin().Unmetered()}, {"RateLimit", metered}} {
		b.Run(bc.name, func(b *testing.B) {
			e := apitest.NewWithPlans(b, api.Config{}, hrana.Config{}, bc.ps)
			admin := e.AdminToken(b, "tenant-a")
			e.Call(b, "tenant-a", "POST", "/api/collections", admin, `{"name": "posts", "public": true}`)
			id := e.Call(b, "tenant-a", "POST", "/api/collections/posts/content", admin,
				`{"title": "Hello", "status": "published"}`).Data["id"].(string)
			req := httptest.NewRequest(http.MethodGet, "/api/content/"+id, nil)
			req.Host = "tenant-a.localhost"
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				e.API.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}

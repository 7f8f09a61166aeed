package api_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/usage"
)

// BenchmarkGetContent serves GET /api/content/:id of a published item to
// an anonymous reader in-process (no network), with the cache off, so
// every request resolves the tenant, reads SQLite and encodes the answer.
func BenchmarkGetContent(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cache int
		usage *usage.Meter // CacheOnUsage: metered per tenant too (route metrics always are)
	}{{"CacheOff", -1, nil}, {"CacheOn", 0, nil}, {"CacheOnUsage", 0, usage.New(nil)}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newIdentity(b, api.Config{ContentCache: bc.cache, Usage: bc.usage})
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

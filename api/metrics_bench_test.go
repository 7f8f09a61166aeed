package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/usage"
)

// BenchmarkMetricsScrape serves GET /metrics with 10,000 provisioned
// tenants (catalog rows; their databases are never opened) and the
// request series of a few routes, in-process.
func BenchmarkMetricsScrape(b *testing.B) {
	e := apitest.New(b, api.Config{Usage: usage.New(nil)})
	_, err := e.Catalog.LocalDB().Writer().ExecContext(context.Background(), `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
		INSERT INTO tenants (id, name, subdomain, status, created_at, updated_at)
		SELECT 'bench-' || i, 'Bench ' || i, 'bench-' || i, CASE WHEN i % 10 = 0 THEN 'suspended' ELSE 'active' END, 0, 0 FROM n`)
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{"/api/tenant", "/api/collections", "/api/content/x", "/nope"} {
		e.Call(b, "tenant-a", "GET", path, "", "")
	}
	req := httptest.NewRequest(http.MethodGet, api.MetricsPath, nil)
	req.Host = "platform.localhost"
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		e.API.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// BenchmarkPlanMiddleware is the per-request cost of the plans on a
// read: the tenant's plan looked up and one request spent of its token
// bucket (limitRate), over 1,000 tenants' buckets, on a plan whose rate
// never refuses (so every request runs the limiter to its end).
//
//	go test ./api -run '^$' -bench PlanMiddleware -benchtime 2s
func BenchmarkPlanMiddleware(b *testing.B) {
	ps, err := plans.Parse([]byte("plans:\n  free:\n    requests_per_second: 1000000000\n    burst: 1000000000\n"))
	if err != nil {
		b.Fatal(err)
	}
	env := tenantstoretest.MustOpen(b, catalog.Config{Plans: ps}, tenantstore.Config{PoolSize: 2})
	s := New(env.Catalog, env.Store, Config{})
	h := s.limitRate(func(echo.Context) error { return nil })
	tenants := make([]*catalog.Tenant, 1000)
	for i := range tenants {
		tenants[i] = &catalog.Tenant{ID: "tenant-" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Plan: "free"}
	}
	b.RunParallel(func(pb *testing.PB) {
		c := s.echo.NewContext(httptest.NewRequest(http.MethodGet, "/api/tenant", nil), httptest.NewRecorder())
		i := 0
		for pb.Next() {
			c.Set(ctxTenant, tenants[i%len(tenants)])
			if err := h(c); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

package api

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/usage"
)

// BenchmarkMeter is the usage and route metering middleware alone around
// a handler that does nothing: a tenant's request counted in its usage
// and in /metrics' route series. Parallel: every core records at once,
// over 1,000 tenants.
func BenchmarkMeter(b *testing.B) {
	s := &Server{usage: usage.New(nil)}
	h := s.meter(func(echo.Context) error { return nil })
	e := echo.New()
	tenants := make([]*catalog.Tenant, 1000)
	for i := range tenants {
		tenants[i] = &catalog.Tenant{ID: "tenant-" + strconv.Itoa(i)}
	}
	context := func(i int) echo.Context {
		req := httptest.NewRequest(http.MethodGet, "/api/content/x", nil)
		c := e.NewContext(req, httptest.NewRecorder())
		c.SetPath("/api/content/:id")
		c.Set(ctxTenant, tenants[i%len(tenants)])
		return c
	}
	b.Run("Serial", func(b *testing.B) {
		c := context(0)
		b.ReportAllocs()
		for b.Loop() {
			h(c)
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		b.RunParallel(func(pb *testing.PB) {
			n++
			c := context(n * 7)
			for pb.Next() {
				h(c)
			}
		})
	})
}

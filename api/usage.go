package api

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/admin"
	"github.com/condohq/condo/metrics"
)

// ctxForwarded marks a request this node sent to its tenant's home node
// (or replayed there): the node that serves it meters it.
const ctxForwarded = "condo.forwarded"

// meter counts every request in /metrics (by route pattern and status
// class) and, for a request that resolved a tenant, in the tenant's usage
// (Config.Usage). It sits inside accessLog and writes a returned error
// itself, so both see the status the client gets. Nothing here takes a
// lock or allocates once a route and tenant have been seen.
func (s *Server) meter(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if admin.Internal(c.Response().Writer) {
			return next(c) // counted as its page
		}
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		end := time.Now()
		took := end.Sub(start)
		r := c.Response()
		route := c.Path()
		if route == "" {
			route = metrics.UnmatchedRoute
		}
		metrics.Request(c.Request().Method, route, r.Status, took)
		if s.usage == nil {
			return nil
		}
		if t := tenantOf(c); t != nil && c.Get(ctxForwarded) == nil {
			s.usage.Request(t.ID, end, r.Status, took, c.Request().ContentLength, r.Size)
		}
		return nil
	}
}

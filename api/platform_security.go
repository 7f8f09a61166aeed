package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// platformSecurityRoutes registers GET /platform/security-events and the
// audit trail, GET /platform/audit.
func (s *Server) platformSecurityRoutes(e *echo.Echo, admin echo.MiddlewareFunc) {
	e.Match(readMethods, "/platform/security-events", with(s.listSecurityEvents, admin))
	e.Match(readMethods, "/platform/audit", with(s.listPlatformAudit, admin))
}

// listSecurityEvents serves GET /platform/security-events?tenant=&kind=
// &before=&limit=: security events of every tenant, newest first, at most
// limit (default 100, at most 1000) a page, as {"data": [...], "meta":
// {"next_before": id}}. next_before, present when the page is full, is the
// before= of the next page.
func (s *Server) listSecurityEvents(c echo.Context) error {
	p, err := readPage(c)
	if err != nil {
		return err
	}
	events, err := s.catalog.SecurityEvents(c.Request().Context(),
		catalog.SecurityEventFilter{TenantID: p.tenant, Kind: c.QueryParam("kind"), Before: p.before, Limit: p.limit})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": events, "meta": p.meta(len(events), func(i int) string { return events[i].ID })})
}

// page is the paging of the platform's newest-first lists (security
// events, the audit trail): ?tenant=, ?before= (an id), ?limit= (default
// 100, at most 1000).
type page struct {
	tenant, before string
	limit          int
}

func readPage(c echo.Context) (page, error) {
	q := c.QueryParams()
	p := page{tenant: q.Get("tenant"), before: q.Get("before")}
	if p.tenant != "" {
		if err := condo.ValidateTenantID(p.tenant); err != nil {
			return p, err
		}
	}
	var err error
	p.limit, err = condo.IntParam(q, "limit", 100, 1, 1000)
	return p, err
}

// meta is a page's {"next_before": id} when it is full (there may be
// more), id(i) being the id of its i-th entry.
func (p page) meta(n int, id func(int) string) map[string]any {
	meta := map[string]any{}
	if n > 0 && n == p.limit {
		meta["next_before"] = id(n - 1)
	}
	return meta
}

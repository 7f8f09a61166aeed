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
	q := c.QueryParams()
	f := catalog.SecurityEventFilter{TenantID: q.Get("tenant"), Kind: q.Get("kind"), Before: q.Get("before")}
	if f.TenantID != "" {
		if err := condo.ValidateTenantID(f.TenantID); err != nil {
			return err
		}
	}
	var err error
	if f.Limit, err = condo.IntParam(q, "limit", 100, 1, 1000); err != nil {
		return err
	}
	events, err := s.catalog.SecurityEvents(c.Request().Context(), f)
	if err != nil {
		return err
	}
	meta := map[string]any{}
	if len(events) > 0 && len(events) == f.Limit { // a full page: there may be more
		meta["next_before"] = events[len(events)-1].ID
	}
	return c.JSON(http.StatusOK, map[string]any{"data": events, "meta": meta})
}

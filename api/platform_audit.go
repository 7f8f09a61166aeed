package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/catalog"
)

// listPlatformAudit serves GET /platform/audit?tenant=&action=&before=&limit=:
// the platform's audit trail, newest first, paged as listSecurityEvents is.
func (s *Server) listPlatformAudit(c echo.Context) error {
	p, err := readPage(c)
	if err != nil {
		return err
	}
	entries, err := s.catalog.Audit(c.Request().Context(),
		catalog.AuditFilter{TenantID: p.tenant, Action: c.QueryParam("action"), Before: p.before, Limit: p.limit})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": entries, "meta": p.meta(len(entries), func(i int) string { return entries[i].ID })})
}

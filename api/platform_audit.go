package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// listPlatformAudit serves GET /platform/audit?tenant=&action=&before=&limit=: the
// platform's audit trail, newest first, paged as listSecurityEvents is.
func (s *Server) listPlatformAudit(c echo.Context) error {
	q := c.QueryParams()
	f := catalog.AuditFilter{TenantID: q.Get("tenant"), Action: q.Get("action"), Before: q.Get("before")}
	if f.TenantID != "" {
		if err := condo.ValidateTenantID(f.TenantID); err != nil {
			return err
		}
	}
	var err error
	if f.Limit, err = condo.IntParam(q, "limit", 100, 1, 1000); err != nil {
		return err
	}
	entries, err := s.catalog.Audit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	meta := map[string]any{}
	if len(entries) > 0 && len(entries) == f.Limit {
		meta["next_before"] = entries[len(entries)-1].ID
	}
	return c.JSON(http.StatusOK, map[string]any{"data": entries, "meta": meta})
}

package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/lifecycle"
)

// accountRoutes lets a tenant's own admin take its data away and close
// its account (self-service; the platform's routes do the same for an
// operator): GET /api/account/export streams the archive of GET
// /platform/tenants/:id/export, POST /api/account/close erases the tenant
// as DELETE /platform/tenants/:id does (lifecycle.Delete, the GDPR
// erasure). The tenant route's middleware has already sent the request to
// the tenant's home region, where its files are.
func (s *Server) accountRoutes() {
	s.tenantRoute(http.MethodGet, "/api/account/export", s.exportAccount, auth.SettingsUpdate)
	s.tenantRoute(http.MethodPost, "/api/account/close", s.closeAccount, auth.SettingsUpdate)
}

// accountOwner refuses what is not a signed-in user of the admin role: an
// API token carries permissions, never the say over the account.
func accountOwner(c echo.Context) (*principal, error) {
	p := principalOf(c)
	if p.Kind == "api_token" || p.Role.Name != auth.RoleAdmin {
		return nil, condo.ReasonErrorf(condo.EFORBIDDEN, "permission_denied", "only a tenant admin, signed in, can export or close the account")
	}
	return p, nil
}

// exportAccount serves GET /api/account/export: the tenant's archive
// (lifecycle.Export), for its admin. An impersonating platform admin may
// take it too: the platform's own export gives them the same bytes.
func (s *Server) exportAccount(c echo.Context) error {
	if _, err := accountOwner(c); err != nil {
		return err
	}
	t := tenantOf(c)
	if c.Request().Method == http.MethodHead {
		setExportHeaders(c, t.ID)
		return c.NoContent(http.StatusOK)
	}
	s.audit(c, auth.CategoryAudit, "account.exported", t.ID, nil)
	w := &lazyStart{c: c, start: func() { setExportHeaders(c, t.ID) }}
	_, err := lifecycle.Export(c.Request().Context(), s.catalog, s.store, t.ID, w, lifecycle.ExportOptions{CondoVersion: s.version})
	if err != nil && w.started {
		logger(c).Error("export cut short", "tenant", t.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
	return err
}

// closeAccount serves POST /api/account/close {"confirm": "<tenant id>"}:
// the tenant is erased for good (lifecycle.Delete), 200 with its
// tombstone; its host answers 410 from then on. The typed tenant id is the
// confirmation, so no stray request closes an account.
//
// A platform admin impersonating the tenant's admin is refused: closing
// is the tenant's own decision, and the platform deletes through its
// console (DELETE /platform/tenants/:id), recorded as the platform's act.
func (s *Server) closeAccount(c echo.Context) error {
	p, err := accountOwner(c)
	if err != nil {
		return err
	}
	if p.Impersonator != "" {
		return condo.ReasonErrorf(condo.EFORBIDDEN, "permission_denied", "an impersonator cannot close the account: delete the tenant from the platform console")
	}
	var in struct {
		Confirm string `json:"confirm"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	t := tenantOf(c)
	if in.Confirm != t.ID {
		return condo.ReasonErrorf(condo.EINVALID, "confirmation_mismatch", "type the site's id, %s, to close the account", t.ID)
	}
	ctx := c.Request().Context()
	// The tenant's own audit log goes with it: the platform's keeps who
	// closed it.
	if err := s.catalog.RecordAudit(ctx, "tenant.closed", t.ID, t.ID, map[string]any{"by_user": p.UserID}); err != nil {
		return err
	}
	ts, err := lifecycle.Delete(ctx, s.catalog, s.store, t.ID, "closed by its admin")
	if err != nil {
		return err
	}
	s.content.Invalidate(t.ID)
	return c.JSON(http.StatusOK, map[string]any{"data": ts})
}

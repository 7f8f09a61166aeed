package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
)

// ImpersonationTTL is how long an impersonation token lives. It cannot be
// refreshed: a platform admin asks again, and each ask is recorded.
const ImpersonationTTL = 15 * time.Minute

// impersonate serves POST /platform/tenants/:id/impersonate: {user_id,
// reason}. It signs a short-lived token for the tenant whose act claim
// names the platform admin: as the user given, or without one as a tenant
// admin. The impersonation is recorded in the tenant's audit log, which
// its admins read, and in the platform's security events.
func (s *Server) impersonate(c echo.Context) error {
	var in struct {
		UserID string `json:"user_id"`
		Reason string `json:"reason"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if err := required("reason", in.Reason); err != nil {
		return err
	}
	if len(in.Reason) > 500 {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_reason", "a reason is at most 500 characters")
	}
	ctx := c.Request().Context()
	t, err := s.catalog.Tenant(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if t.Status != catalog.StatusActive {
		return condo.ReasonErrorf(condo.ECONFLICT, "tenant_"+t.Status, "tenant %q is %s", t.ID, t.Status)
	}
	adminID, _ := c.Get(ctxPlatformAdmin).(string)
	admin, err := s.catalog.Admin(ctx, adminID)
	if err != nil {
		return err
	}
	role := auth.RoleAdmin
	c.Set(ctxTenant, t)
	if in.UserID != "" {
		err := s.withTenantDB(c, func(ctx context.Context, h tenantHandle) error {
			a, err := auth.New(t.ID, h.DB).ActiveUser(ctx, in.UserID)
			if condo.ErrorCode(err) == condo.EUNAUTHORIZED {
				return condo.ReasonErrorf(condo.ENOTFOUND, "user_not_found", "no active user %q in tenant %q", in.UserID, t.ID)
			}
			if err == nil {
				role = a.User.Role
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	act := &auth.Actor{Subject: admin.ID, Email: admin.Email}
	tok, exp, err := s.keys.IssueAccess(ctx, t.ID, in.UserID, role, "", act, ImpersonationTTL)
	if err != nil {
		return err
	}
	detail := map[string]any{"admin_email": admin.Email, "user_id": in.UserID, "role": role, "reason": in.Reason, "expires_at": exp.UTC()}
	c.Set(ctxPrincipal, &principal{Kind: "platform_admin", UserID: admin.ID, Impersonator: admin.ID})
	s.securityEvent(c, "impersonation", in.UserID, detail, detail)
	return c.JSON(http.StatusOK, map[string]any{"data": map[string]any{
		"token": tok, "token_type": "Bearer", "expires_at": exp.UTC(), "tenant": t.ID, "user_id": in.UserID, "role": role}})
}

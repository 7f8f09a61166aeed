package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/auth"
)

// getInvitation serves GET /auth/invitations/:token: the pending
// invitation of this token (its email, role and expiry), so the page of
// the invitation's link can say who is invited before a password is
// chosen; 404 invitation_not_found for a used, withdrawn, expired or
// unknown one, or one of another tenant. The token is the credential, as
// for accepting.
func (s *Server) getInvitation(c echo.Context) error {
	inv, err := s.catalog.PendingInvitation(c.Request().Context(), tenantOf(c).ID, auth.HashSecret(c.Param("token")))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": struct {
		Role      string    `json:"role"`
		ExpiresAt time.Time `json:"expires_at"`
	}{inv.Role, inv.ExpiresAt}})
}

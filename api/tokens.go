package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/plans"
)

func (s *Server) tokenRoutes() {
	s.tenantRoute(http.MethodGet, "/api/tokens", s.listTokens, auth.TokensManage)
	s.tenantRoute(http.MethodPost, "/api/tokens", s.createToken, auth.TokensManage)
	s.tenantRoute(http.MethodDelete, "/api/tokens/:id", s.revokeToken, auth.TokensManage)
}

func (s *Server) listTokens(c echo.Context) error {
	var out []*auth.APIToken
	err := s.identity(c, func(ctx context.Context, st *auth.Store) (err error) {
		out, err = st.APITokens(ctx)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// createToken serves POST /api/tokens: {name, permissions, read_only,
// expires_at | expires_in_days}. The scope defaults to the creator's own
// permissions (read-only ones with read_only) and can never exceed them.
// The token is in the answer once and never again.
func (s *Server) createToken(c echo.Context) error {
	var in struct {
		Name          string     `json:"name"`
		Permissions   []string   `json:"permissions"`
		ReadOnly      bool       `json:"read_only"`
		ExpiresAt     *time.Time `json:"expires_at"`
		ExpiresInDays *int       `json:"expires_in_days"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	p := principalOf(c)
	if p.Impersonator != "" || p.UserID == "" {
		// An impersonation is short-lived by design; it may not mint a
		// credential that outlives it.
		return condo.ReasonErrorf(condo.EFORBIDDEN, "permission_denied", "an API token is created by its user, not by an impersonator")
	}
	perms := p.Perms &^ auth.MustPerms(auth.TokensManage)
	if in.Permissions != nil {
		var err error
		if perms, err = auth.PermsOf(in.Permissions...); err != nil {
			return err
		}
	}
	if in.ReadOnly {
		perms = perms.ReadOnly()
	}
	if err := grantable(c, perms); err != nil {
		return err
	}
	switch {
	case in.ExpiresAt != nil && in.ExpiresInDays != nil:
		return condo.ReasonErrorf(condo.EINVALID, "invalid_expiry", "give expires_at or expires_in_days, not both")
	case in.ExpiresInDays != nil && (*in.ExpiresInDays < 1 || *in.ExpiresInDays > 3650):
		return condo.ReasonErrorf(condo.EINVALID, "invalid_expiry", "expires_in_days is 1 to 3650")
	case in.ExpiresInDays != nil:
		t := time.Now().Add(time.Duration(*in.ExpiresInDays) * 24 * time.Hour)
		in.ExpiresAt = &t
	}
	var tok *auth.APIToken
	var secret string
	err := s.identity(c, func(ctx context.Context, st *auth.Store) (err error) {
		// The plan caps the tenant's tokens (the CLI, an operator's, does not).
		have, err := st.APITokens(ctx)
		if err != nil {
			return err
		}
		if p := s.planOf(c); !p.Allows(plans.APITokens) {
			return plans.NotAllowed(plans.APITokens, p.Name)
		} else if err := countLimit(p, "tokens", "API tokens", int64(len(have)), p.APITokens); err != nil {
			return err
		}
		tok, secret, err = st.CreateAPIToken(ctx, auth.NewAPIToken{Name: in.Name, UserID: p.UserID, Permissions: perms, ExpiresAt: in.ExpiresAt})
		return err
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "token.created", tok.ID, map[string]any{"name": tok.Name, "permissions": tok.Permissions})
	return c.JSON(http.StatusCreated, map[string]any{"data": struct {
		*auth.APIToken
		Token string `json:"token"`
	}{tok, secret}})
}

func (s *Server) revokeToken(c echo.Context) error {
	var tok *auth.APIToken
	err := s.identity(c, func(ctx context.Context, st *auth.Store) (err error) {
		tok, err = st.RevokeAPIToken(ctx, c.Param("id"))
		return err
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "token.revoked", tok.ID, map[string]any{"name": tok.Name})
	return c.NoContent(http.StatusNoContent)
}

package api

import (
	"context"
	"log/slog"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
)

const ctxPrincipal = "condo.principal"

// principal is who a tenant request acts as: a user with a session, an API
// token, or a platform admin impersonating.
type principal struct {
	Kind         string // "user", "api_token" or "impersonation"
	UserID       string // "" for an impersonation without a user
	Role         auth.Role
	Perms        auth.Perms
	SessionID    string
	TokenID      string
	Impersonator string // the platform admin behind an impersonation
	// ImpersonatorEmail is that admin's email, as the token names it.
	ImpersonatorEmail string
}

// actor names the principal in logs and events: kind:user[/token].
func (p *principal) actor() string {
	a := p.Kind + ":" + p.UserID
	if p.TokenID != "" {
		a += "/" + p.TokenID
	}
	return a
}

func principalOf(c echo.Context) *principal {
	p, _ := c.Get(ctxPrincipal).(*principal)
	return p
}

// bearer returns the request's bearer credential, if it has one.
func bearer(c echo.Context) (string, bool) {
	scheme, tok, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
	tok = strings.TrimSpace(tok)
	return tok, strings.EqualFold(scheme, "Bearer") && tok != ""
}

// authenticate reads the request's credential, if any, and sets its
// principal. A credential is valid only on the tenant it was issued for:
// anything else is 401, and a token of another tenant is recorded as a
// security event in the tenant it was presented to. A request without a
// credential goes on anonymously; routes that need one say so (require).
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok, ok := bearer(c)
		if !ok {
			if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
				return unauthorized(c, condo.ReasonErrorf(condo.EUNAUTHORIZED, "invalid_token", "use Authorization: Bearer <token>"))
			}
			return next(c)
		}
		p, foreign, err := s.verifyCredential(c, tok)
		switch {
		case foreign != nil:
			s.crossTenant(c, foreign)
		case condo.ErrorReason(err) == "invalid_token":
			// A forged or mangled token (not an expired one) is worth
			// recording; securityEvent samples it, so a flood of bad
			// tokens does not become a flood of writes.
			d := map[string]any{"reason": condo.ErrorMessage(err)}
			s.securityEvent(c, "invalid_token", "", d, d)
		}
		if err != nil {
			return unauthorized(c, err)
		}
		c.Set(ctxPrincipal, p)
		addLogAttrs(c, slog.String("actor", p.actor()))
		if p.Impersonator != "" {
			addLogAttrs(c, slog.String("impersonator", p.Impersonator))
		}
		return next(c)
	}
}

func unauthorized(c echo.Context, err error) error {
	if condo.ErrorCode(err) == condo.EUNAUTHORIZED {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="condo", error="invalid_token"`)
	}
	return err
}

// foreignCredential is a credential that verified, but for another tenant
// than the one it was presented to.
type foreignCredential struct{ kind, tenant string }

// verifyCredential checks tok on the request's tenant. A credential that
// is genuine but another tenant's comes back as foreign, with the error
// the request answers.
func (s *Server) verifyCredential(c echo.Context, tok string) (*principal, *foreignCredential, error) {
	t := tenantOf(c)
	ctx := c.Request().Context()
	if auth.IsAPIToken(tok) {
		if tid := auth.APITokenTenant(tok); tid != t.ID {
			// The tenant in a token's text is a claim anyone can write
			// (condo_alpha_anything): only a token that verifies in that
			// tenant's database blames it.
			if tid != "" && s.isAPITokenOf(ctx, tid, tok) {
				return nil, &foreignCredential{"api_token", tid}, errInvalidToken
			}
			return nil, nil, errInvalidToken
		}
		var p *principal
		err := s.withTenantDB(c, func(ctx context.Context, h tenantHandle) error {
			tk, a, err := auth.New(t.ID, h.DB).VerifyAPIToken(ctx, tok)
			if err != nil {
				return err
			}
			p = &principal{Kind: "api_token", Role: a.Role, Perms: tk.Permissions & a.Role.Permissions, TokenID: tk.ID}
			if a.User != nil { // nil for the operator's token (SQL only)
				p.UserID = a.User.ID
			}
			return nil
		})
		return p, nil, err
	}
	// The signature is checked before the tenant claim is believed.
	claims, err := s.keys.VerifyAccess(ctx, tok)
	if err != nil {
		return nil, nil, err
	}
	if claims.TenantID != t.ID {
		return nil, &foreignCredential{"jwt", claims.TenantID}, errInvalidToken
	}
	p := &principal{Kind: "user", UserID: claims.Subject, SessionID: claims.SessionID}
	if claims.Act != nil {
		// An impersonation ends with its platform admin.
		if _, err := s.catalog.Admin(ctx, claims.Act.Subject); err != nil {
			return nil, nil, errInvalidToken
		}
	}
	err = s.withTenantDB(c, func(ctx context.Context, h tenantHandle) error {
		st := auth.New(t.ID, h.DB)
		var a *auth.Active
		var err error
		switch {
		case claims.Act != nil && claims.Subject == "":
			p.Kind, p.Impersonator, p.ImpersonatorEmail = "impersonation", claims.Act.Subject, claims.Act.Email
			p.Role, _ = auth.BuiltinRole(auth.RoleAdmin)
			p.Perms = p.Role.Permissions
			return nil
		case claims.Act != nil:
			p.Kind, p.Impersonator, p.ImpersonatorEmail = "impersonation", claims.Act.Subject, claims.Act.Email
			a, err = st.ActiveUser(ctx, claims.Subject)
		default:
			a, err = st.CheckSession(ctx, claims.SessionID, claims.Subject)
		}
		if err != nil {
			return err
		}
		p.Role, p.Perms = a.Role, a.Role.Permissions
		return nil
	})
	return p, nil, err
}

// isAPITokenOf reports whether tok is a live API token of tenant id. It
// costs what a request on that tenant's own host costs (its database from
// the pool, one indexed read) and records no use of the token.
func (s *Server) isAPITokenOf(ctx context.Context, id, tok string) bool {
	h, release, err := s.store.Acquire(ctx, id)
	if err != nil {
		return false // no such tenant, archived, unavailable: nothing verifies
	}
	defer release()
	_, _, err = auth.New(id, h.DB).CheckAPIToken(ctx, tok)
	return err == nil
}

var errInvalidToken = condo.ReasonErrorf(condo.EUNAUTHORIZED, "invalid_token", "the token is not valid for this tenant")

// crossTenant records a token of one tenant presented to another: in the
// receiving tenant's log (without the other tenant's id, which is not its
// business) and in the platform's security events (with it).
func (s *Server) crossTenant(c echo.Context, f *foreignCredential) {
	s.securityEvent(c, "cross_tenant_token", "", map[string]any{"credential": f.kind}, map[string]any{"credential": f.kind, "token_tenant": f.tenant})
}

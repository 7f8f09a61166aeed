package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/mail"
	"github.com/condohq/condo/plugins"
)

// sessionRoutes registers the tenant's /auth routes: sign-up, login,
// refresh, logout, me, password change and reset, invitation acceptance.
func (s *Server) sessionRoutes() {
	s.tenantRoute(http.MethodPost, "/auth/register", s.register, anyone)
	s.tenantRoute(http.MethodPost, "/auth/login", s.login, anyone)
	s.tenantRoute(http.MethodPost, "/auth/refresh", s.refresh, anyone)
	s.tenantRoute(http.MethodPost, "/auth/logout", s.logout, anyone)
	s.tenantRoute(http.MethodGet, "/auth/me", s.me, signedIn)
	s.tenantRoute(http.MethodPost, "/auth/password", s.changePassword, signedIn)
	s.tenantRoute(http.MethodPost, "/auth/password/forgot", s.forgotPassword, anyone)
	s.tenantRoute(http.MethodPost, "/auth/password/reset", s.resetPassword, anyone)
	s.tenantRoute(http.MethodGet, "/auth/invitations/:token", s.getInvitation, anyone)
	s.tenantRoute(http.MethodPost, "/auth/invitations/:token/accept", s.acceptInvitation, anyone)
}

// identity runs fn with the identity store of the request's tenant.
func (s *Server) identity(c echo.Context, fn func(ctx context.Context, st *auth.Store) error) error {
	t := tenantOf(c)
	return s.withTenantDB(c, func(ctx context.Context, h tenantHandle) error {
		return fn(ctx, auth.New(t.ID, h.DB))
	})
}

// limits reads what the tenant allows new users and passwords: its plan's
// user limit and its password policy. Only routes that create users or set
// passwords need it, so it is not read on every identity request.
func limits(c echo.Context, ctx context.Context, st *auth.Store) (auth.Limits, error) {
	return st.Limits(ctx, tenantOf(c).UserLimit)
}

func client(c echo.Context) auth.Client {
	return auth.Client{IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
}

// sessionResponse is what a login, a sign-up, a refresh and an accepted
// invitation answer.
type sessionResponse struct {
	Token        string     `json:"token"`
	RefreshToken string     `json:"refresh_token"`
	TokenType    string     `json:"token_type"`
	ExpiresAt    time.Time  `json:"expires_at"`
	User         *auth.User `json:"user"`
}

// startSession opens a session for u and signs its first access token.
func (s *Server) startSession(c echo.Context, ctx context.Context, st *auth.Store, u *auth.User) (*sessionResponse, error) {
	sess, refresh, err := st.StartSession(ctx, u.ID, client(c))
	if err != nil {
		return nil, err
	}
	tok, exp, err := s.keys.IssueAccess(ctx, st.TenantID, u.ID, u.Role, sess.ID, nil, auth.AccessTTL)
	if err != nil {
		return nil, err
	}
	return &sessionResponse{Token: tok, RefreshToken: refresh, TokenType: "Bearer", ExpiresAt: exp.UTC(), User: u}, nil
}

type credentials struct {
	Email     string `json:"email"`
	Password  string `json:"password"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// register serves POST /auth/register where the tenant allows sign-up.
func (s *Server) register(c echo.Context) error {
	var in credentials
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if err := required("email", in.Email, "password", in.Password); err != nil {
		return err
	}
	// Sign-ups count against the client's IP like logins, so one client
	// cannot fill the tenant's user limit in a burst.
	if err := s.throttled(c, loginKeys(tenantOf(c).ID, "register:"+in.Email, c.RealIP())); err != nil {
		return err
	}
	var out *sessionResponse
	err := s.identity(c, func(ctx context.Context, st *auth.Store) error {
		set, err := st.Settings(ctx)
		if err != nil {
			return err
		}
		lim := auth.Limits{Users: tenantOf(c).UserLimit, Policy: set.PasswordPolicy}
		if !set.AllowSignup {
			return condo.ReasonErrorf(condo.EFORBIDDEN, "signup_disabled", "this site does not allow sign-up: ask an admin for an invitation")
		}
		u, err := st.CreateUser(ctx, auth.NewUser{Email: in.Email, Password: in.Password, FirstName: in.FirstName,
			LastName: in.LastName, Role: set.DefaultRole}, lim)
		if err != nil {
			return err
		}
		out, err = s.startSession(c, ctx, st, u)
		return err
	})
	if err != nil {
		return err
	}
	c.Set(ctxPrincipal, &principal{Kind: "user", UserID: out.User.ID})
	s.audit(c, auth.CategoryAudit, "user.registered", out.User.ID, map[string]any{"email": out.User.Email})
	return c.JSON(http.StatusCreated, out)
}

// login serves POST /auth/login: {email, password} → a session.
func (s *Server) login(c echo.Context) error {
	in, err := decodeLogin(c)
	if err != nil {
		return err
	}
	keys := loginKeys(tenantOf(c).ID, in.Email, c.RealIP())
	if err := s.throttled(c, keys); err != nil {
		return err
	}
	var out *sessionResponse
	err = s.identity(c, func(ctx context.Context, st *auth.Store) error {
		u, err := st.Authenticate(ctx, in.Email, in.Password)
		if err != nil {
			return err
		}
		if out, err = s.startSession(c, ctx, st, u); err != nil {
			return err
		}
		// After the session committed: a plugin cannot fail a sign-in.
		s.plugins.AfterLogin(ctx, &plugins.LoginEvent{Tenant: st.TenantID, DB: st.DB, UserID: u.ID, Email: u.Email})
		return nil
	})
	if condo.ErrorCode(err) == condo.EUNAUTHORIZED {
		s.loginFailed(c, keys, in.Email)
	}
	if err != nil {
		return err
	}
	s.loginThrottle.Reset(keys.account)
	c.Set(ctxPrincipal, &principal{Kind: "user", UserID: out.User.ID})
	s.audit(c, auth.CategoryAudit, "user.login", out.User.ID, nil)
	return c.JSON(http.StatusOK, out)
}

// refresh serves POST /auth/refresh: {refresh_token} → a new access token
// and a new refresh token; the presented one is spent. Reusing a spent one
// ends the session and is recorded.
func (s *Server) refresh(c echo.Context) error {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if err := required("refresh_token", in.RefreshToken); err != nil {
		return err
	}
	var out *sessionResponse
	var reusedSession *auth.Session
	err := s.identity(c, func(ctx context.Context, st *auth.Store) error {
		sess, u, next, err := st.Refresh(ctx, in.RefreshToken)
		if condo.ErrorReason(err) == "refresh_token_reused" {
			reusedSession = sess
		}
		if err != nil {
			return err
		}
		tok, exp, err := s.keys.IssueAccess(ctx, st.TenantID, u.ID, u.Role, sess.ID, nil, auth.AccessTTL)
		out = &sessionResponse{Token: tok, RefreshToken: next, TokenType: "Bearer", ExpiresAt: exp.UTC(), User: u}
		return err
	})
	if reusedSession != nil {
		d := map[string]any{"session": reusedSession.ID, "user": reusedSession.UserID}
		s.securityEvent(c, "refresh_token_reused", reusedSession.UserID, d, map[string]any{"session": reusedSession.ID})
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// logout serves POST /auth/logout: it ends the session of the access token
// sent, or of the refresh token in the body. 204 either way, so a client
// can always log out.
func (s *Server) logout(c echo.Context) error {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	p := principalOf(c)
	err := s.identity(c, func(ctx context.Context, st *auth.Store) error {
		if p != nil && p.SessionID != "" {
			if err := st.RevokeSession(ctx, p.SessionID, "logout"); err != nil {
				return err
			}
		}
		if in.RefreshToken != "" {
			return st.RevokeRefresh(ctx, in.RefreshToken)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// me serves GET /auth/me: the principal, with its permissions.
func (s *Server) me(c echo.Context) error {
	p := principalOf(c)
	out := map[string]any{"kind": p.Kind, "role": p.Role.Name, "permissions": p.Perms}
	if p.Impersonator != "" {
		out["impersonated_by"] = p.Impersonator
		out["impersonated_by_email"] = p.ImpersonatorEmail
	}
	if p.TokenID != "" {
		out["token_id"] = p.TokenID
	}
	if p.UserID == "" {
		return c.JSON(http.StatusOK, map[string]any{"data": out})
	}
	err := s.identity(c, func(ctx context.Context, st *auth.Store) error {
		u, err := st.User(ctx, p.UserID)
		out["user"] = u
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// changePassword serves POST /auth/password: {current_password,
// new_password}. Other sessions of the user end; this one stays.
func (s *Server) changePassword(c echo.Context) error {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if err := required("current_password", in.Current, "new_password", in.New); err != nil {
		return err
	}
	p := principalOf(c)
	if p.Kind != "user" {
		return condo.ReasonErrorf(condo.EFORBIDDEN, "permission_denied", "only a signed-in user can change their password")
	}
	err := s.identity(c, func(ctx context.Context, st *auth.Store) error {
		lim, err := limits(c, ctx, st)
		if err != nil {
			return err
		}
		return st.ChangePassword(ctx, p.UserID, p.SessionID, in.Current, in.New, lim.Policy)
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "user.password_changed", p.UserID, nil)
	return c.NoContent(http.StatusNoContent)
}

// forgotPassword serves POST /auth/password/forgot: {email}. It answers
// 202 whether or not the email has an account (so it reveals none), and
// mails a reset token to an active user. Throttled like a login.
func (s *Server) forgotPassword(c echo.Context) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if err := required("email", in.Email); err != nil {
		return err
	}
	keys := loginKeys(tenantOf(c).ID, "reset:"+in.Email, c.RealIP())
	if err := s.throttled(c, keys); err != nil {
		return err
	}
	s.loginThrottle.Hit(keys.account)
	var target string
	err := s.identity(c, func(ctx context.Context, st *auth.Store) error {
		u, token, err := st.CreateReset(ctx, in.Email)
		if err != nil || u == nil {
			return err
		}
		target = u.ID
		return s.mailer.Send(ctx, mail.Message{TenantID: st.TenantID, To: u.Email,
			Subject: "Reset your password for " + tenantOf(c).Name,
			Body: fmt.Sprintf("Someone asked to reset the password of %s on %s.\n\nTo choose a new one, open this link within an hour:\n\n"+
				"  %[3]s/admin/reset?token=%[4]s\n\nOr send the reset token through the API:\n\n"+
				"  POST %[3]s/auth/password/reset\n  {\"token\": \"%[4]s\", \"password\": \"<new password>\"}\n\nIf this was not you, ignore this message.\n",
				u.Email, tenantOf(c).Name, s.origin(c), token)})
	})
	if err != nil {
		return err
	}
	if target != "" {
		s.audit(c, auth.CategoryAudit, "user.password_reset_requested", target, nil)
	}
	return c.JSON(http.StatusAccepted, map[string]any{"data": map[string]string{"status": "if the email has an account, a reset token is on its way"}})
}

// resetPassword serves POST /auth/password/reset: {token, password}. Every
// session of the user ends.
func (s *Server) resetPassword(c echo.Context) error {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if err := required("token", in.Token, "password", in.Password); err != nil {
		return err
	}
	var u *auth.User
	err := s.identity(c, func(ctx context.Context, st *auth.Store) (err error) {
		lim, err := limits(c, ctx, st)
		if err != nil {
			return err
		}
		u, err = st.ResetPassword(ctx, in.Token, in.Password, lim.Policy)
		return err
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "user.password_reset", u.ID, nil)
	return c.NoContent(http.StatusNoContent)
}

// loginRequest is the body of both logins, a tenant user's and a platform
// admin's.
type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func decodeLogin(c echo.Context) (loginRequest, error) {
	var in loginRequest
	if err := decodeStrict(c, &in); err != nil {
		return in, err
	}
	return in, required("email", in.Email, "password", in.Password)
}

// required refuses a body that lacks any of the named fields (name, value
// pairs), naming them all.
func required(pairs ...string) error {
	var missing []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			missing = append(missing, pairs[i])
		}
	}
	if len(missing) > 0 {
		return condo.ReasonErrorf(condo.EINVALID, "missing_fields", "missing %v", missing)
	}
	return nil
}

// origin is the tenant's own address, for links in mail. It never comes
// from the request's Host, which a client chooses (where X-Tenant-ID
// resolves the tenant, any Host reaches it).
func (s *Server) origin(c echo.Context) string {
	t := tenantOf(c)
	host := t.ID + "." + s.catalog.BaseDomain(c.Request().Context())
	for _, d := range t.Domains {
		if d.Primary {
			host = d.Domain
		}
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		// Development: keep the port the server answers on.
		if _, port, err := net.SplitHostPort(c.Request().Host); err == nil {
			host = net.JoinHostPort(host, port)
		}
		return "http://" + host
	}
	return "https://" + host
}

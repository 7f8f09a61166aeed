package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
)

// Login throttling: an account (tenant + email) may fail LoginBurst times
// in a row, then once per LoginEvery; a client IP may try IPBurst logins
// at once, then one per IPEvery, whatever the accounts.
const (
	LoginBurst = 5
	LoginEvery = time.Minute
	IPBurst    = 30
	IPEvery    = 2 * time.Second
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
		l := logger(c).With("actor", p.actor())
		if p.Impersonator != "" {
			l = l.With("impersonator", p.Impersonator)
		}
		c.Set(ctxLogger, l)
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
			p = &principal{Kind: "api_token", UserID: a.User.ID, Role: a.Role, Perms: tk.Permissions & a.Role.Permissions, TokenID: tk.ID}
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
			p.Kind, p.Impersonator = "impersonation", claims.Act.Subject
			p.Role, _ = auth.BuiltinRole(auth.RoleAdmin)
			p.Perms = p.Role.Permissions
			return nil
		case claims.Act != nil:
			p.Kind, p.Impersonator = "impersonation", claims.Act.Subject
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

// Route permissions that are not a permission: anyone (also anonymous),
// or any signed-in principal.
const (
	anyone   = ""
	signedIn = "signed-in"
)

// require lets a request through only with a principal that holds perm.
// A refusal for lack of a permission is recorded as a security event.
func (s *Server) require(perm string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principalOf(c)
			if p == nil {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="condo"`)
				return condo.ReasonErrorf(condo.EUNAUTHORIZED, "missing_token",
					"sign in first: POST /auth/login, then send Authorization: Bearer <token>")
			}
			if perm != signedIn && !p.Perms.Has(perm) {
				detail := map[string]any{"permission": perm, "method": c.Request().Method, "route": c.Path()}
				s.securityEvent(c, "permission_denied", "", detail, detail)
				return condo.ReasonErrorf(condo.EFORBIDDEN, "permission_denied", "this needs the %s permission", perm)
			}
			return next(c)
		}
	}
}

// tenantRoute registers a route of the tenant scope: resolve the tenant,
// authenticate, then check perm (anyone, signedIn or a permission). A GET
// route answers HEAD too (see readMethods).
func (s *Server) tenantRoute(method, path string, h echo.HandlerFunc, perm string) {
	mw := []echo.MiddlewareFunc{s.resolveTenant, s.authenticate}
	if perm != anyone {
		mw = append(mw, s.require(perm))
	}
	if method != http.MethodGet && method != http.MethodHead {
		// Any successful write may change what a cached read answers
		// (deleting a user clears their items' author), so it drops the
		// tenant's; refused requests drop nothing, so nobody can keep a
		// tenant's cache cold.
		mw = append(mw, s.dropCachedReads)
	}
	if method == http.MethodGet {
		s.echo.Match(readMethods, path, h, mw...)
		return
	}
	s.echo.Add(method, path, h, mw...)
}

// dropCachedReads invalidates the tenant's cached reads after a write.
func (s *Server) dropCachedReads(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil && c.Response().Status < 400 {
			s.cache.invalidate(tenantOf(c).ID)
		}
		return err
	}
}

// audit records an event of the request's tenant, by the request's
// principal. A failure to record is logged, not returned: the change it
// describes has happened.
func (s *Server) audit(c echo.Context, category, action, target string, detail any) {
	e := auth.Event{Category: category, Action: action, Target: target, IP: c.RealIP(),
		UserAgent: c.Request().UserAgent(), RequestID: c.Response().Header().Get(echo.HeaderXRequestID), ActorType: "anonymous"}
	if p := principalOf(c); p != nil {
		e.ActorType, e.ActorID, e.ImpersonatorID = p.Kind, p.UserID, p.Impersonator
		if p.TokenID != "" {
			e.ActorID = p.TokenID
		}
	}
	e.Detail, _ = json.Marshal(detail)
	err := s.withTenantDB(c, func(ctx context.Context, h tenantHandle) error {
		return auth.New(h.TenantID, h.DB).Record(context.WithoutCancel(ctx), e)
	})
	if err != nil {
		logger(c).Error("record audit event", "action", action, "err", err)
	}
}

// sampledEvents are the kinds of security event a client can repeat at
// request rate (any bearer string, any refused route): each tenant,
// client address and kind writes at most one row per
// Config.SecurityEventEvery, and that row's detail counts the ones held
// back since ("suppressed"). Keyed per tenant, so one tenant's flood never
// hides another's events. Failed logins are not sampled (the login
// throttles bound them, and each row names the account tried), nor are
// impersonations (a platform admin's deliberate act).
var sampledEvents = map[string]bool{"invalid_token": true, "cross_tenant_token": true, "permission_denied": true, "refresh_token_reused": true}

// securityEvent records a security event in the tenant's log (detail) and
// the platform's (platformDetail).
func (s *Server) securityEvent(c echo.Context, kind, target string, detail, platformDetail map[string]any) {
	if sampledEvents[kind] {
		ok, held := s.events.Allow(tenantOf(c).ID + "\x00" + c.RealIP() + "\x00" + kind)
		if !ok {
			return
		}
		if held > 0 {
			detail["suppressed"], platformDetail["suppressed"] = held, held
		}
	}
	s.audit(c, auth.CategorySecurity, kind, target, detail)
	actor := ""
	if p := principalOf(c); p != nil {
		actor = p.actor()
	}
	if target != "" {
		platformDetail["target"] = target
	}
	d, _ := json.Marshal(platformDetail)
	ev := &catalog.SecurityEvent{TenantID: tenantOf(c).ID, Kind: kind, Actor: actor, IP: c.RealIP(), UserAgent: c.Request().UserAgent(), Detail: d}
	if err := s.catalog.RecordSecurityEvent(context.WithoutCancel(c.Request().Context()), ev); err != nil {
		logger(c).Error("record security event", "kind", kind, "err", err)
	}
}

// throttleKeys name the two buckets a login attempt counts against.
type throttleKeys struct{ account, ip string }

// loginKeys are the throttle keys of a login to tenant ("" for the
// platform) as email from ip.
func loginKeys(tenant, email, ip string) throttleKeys {
	return throttleKeys{account: tenant + "\x00" + strings.ToLower(strings.TrimSpace(email)), ip: ip}
}

// throttled answers 429 with Retry-After while either bucket is empty, and
// otherwise spends one attempt of the IP's.
func (s *Server) throttled(c echo.Context, k throttleKeys) error {
	wait := max(s.loginThrottle.Wait(k.account), s.ipThrottle.Wait(k.ip))
	if wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return condo.ReasonErrorf(condo.ELIMITED, "too_many_attempts", "too many login attempts: try again in %d seconds", secs)
	}
	s.ipThrottle.Hit(k.ip)
	return nil
}

// loginFailed spends one attempt of the account and records the failure
// (and the lockout, when this failure starts one). On the platform login
// (no tenant) only the platform's log has it.
func (s *Server) loginFailed(c echo.Context, k throttleKeys, email string) {
	locked := s.loginThrottle.Hit(k.account)
	detail := map[string]any{"email": condo.Clip(email)}
	record := func(kind string) {
		if tenantOf(c) != nil {
			s.securityEvent(c, kind, "", detail, map[string]any{"email": condo.Clip(email)})
			return
		}
		d, _ := json.Marshal(detail)
		ev := &catalog.SecurityEvent{Kind: "platform_" + kind, IP: c.RealIP(), UserAgent: c.Request().UserAgent(), Detail: d}
		if err := s.catalog.RecordSecurityEvent(context.WithoutCancel(c.Request().Context()), ev); err != nil {
			logger(c).Error("record security event", "kind", kind, "err", err)
		}
	}
	record("login_failed")
	if locked {
		record("login_locked")
	}
}

// clientIP picks the client's address: from header when a trusted proxy
// sets it, else the connection's.
func clientIP(header string) echo.IPExtractor {
	direct := echo.ExtractIPDirect()
	if header == "" {
		return direct
	}
	return func(r *http.Request) string {
		if ip := net.ParseIP(strings.TrimSpace(r.Header.Get(header))); ip != nil {
			return ip.String()
		}
		return direct(r)
	}
}

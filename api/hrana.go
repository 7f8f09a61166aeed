package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/plans"
)

// The libSQL endpoint (package hrana) on every tenant's host: the routes
// libsql-client-go and @libsql/client call, resolved and authenticated as
// the tenant's other routes are, but answering every refusal in the
// protocol's own error shape ({"error", "message", "code"} under
// Content-Type application/json), which is what both clients show their
// users. Any origin may call it (a token, not a cookie, is its
// credential), so it has its own CORS policy, hranaCORS.

// errNoStreams answers the endpoint of a server built without a stream
// registry (Config.Streams).
var errNoStreams = condo.ReasonErrorf(condo.EUNAVAILABLE, "sql_unavailable", "this server does not serve the libSQL endpoint")

// hranaCORS lets a browser app on any origin call the endpoint with a
// bearer token. No credentials: cookies play no part in it.
var hranaCORS = &CORS{AllowedOrigins: []string{"*"},
	AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost},
	AllowedHeaders: []string{"Authorization", "Content-Type", "X-Libsql-Client-Version"},
	ExposedHeaders: []string{"Retry-After", "X-Request-Id"}}

// isHranaPath reports the paths of the endpoint, for the server-wide
// middleware that treats them apart (CORS, the body limit).
func isHranaPath(p string) bool {
	p = hranaSuffix(p)
	switch p {
	case "/v2", "/v3", "/v2/pipeline", "/v3/pipeline", "/v3/cursor":
		return true
	}
	return strings.HasPrefix(p, "/v2-protobuf") || strings.HasPrefix(p, "/v3-protobuf")
}

// TenantPathPrefix addresses a tenant without DNS: /_condo/tenants/<id>
// on any host is tenant <id>'s libSQL endpoint, so that
// http://node:8080/_condo/tenants/<id> is a URL libSQL clients (and
// another node's remote location) can use, with the same checks as the
// tenant's own host.
const TenantPathPrefix = "/_condo/tenants/"

// hranaSuffix is p without a TenantPathPrefix and id: the endpoint's own
// path.
func hranaSuffix(p string) string {
	rest, ok := strings.CutPrefix(p, TenantPathPrefix)
	if !ok {
		return p
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return "/"
}

// resolveTenantPath is resolveTenant for the TenantPathPrefix routes: the
// tenant is the path's, whatever the host.
func (s *Server) resolveTenantPath(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		t, err := s.catalog.ResolveID(c.Request().Context(), c.Param("tenant"))
		if err != nil {
			return err
		}
		c.Set(ctxTenant, t)
		addLogAttrs(c, slog.String("tenant", t.ID))
		return next(c)
	}
}

func (s *Server) hranaRoutes() {
	index := func(version int) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Param("tenant") != "" && principalOf(c) == nil {
				// A host names its tenant for anyone to see; a path
				// answers only the tenant's own credentials, so it is no
				// directory of the tenants a node serves.
				return missingToken(c)
			}
			hrana.ServeIndex(c.Response(), version)
			return nil
		}
	}
	pipeline := func(version int) echo.HandlerFunc {
		return s.withStreams(func(c echo.Context, r *hrana.Registry, caller *hrana.Caller) error {
			return r.ServePipeline(c.Response(), c.Request(), version, caller)
		})
	}
	cursor := s.withStreams(func(c echo.Context, r *hrana.Registry, caller *hrana.Caller) error {
		return r.ServeCursor(c.Response(), c.Request(), caller)
	})
	noProtobuf := func(echo.Context) error { return hrana.ErrNoProtobuf }

	for _, route := range []struct {
		prefix  string
		resolve echo.MiddlewareFunc
	}{{"", s.resolveTenant}, {TenantPathPrefix + ":tenant", s.resolveTenantPath}} {
		mw := []echo.MiddlewareFunc{hranaErrors, advertiseCaps, route.resolve, s.routeHome, s.limitRate, s.authenticate, s.requireFeature(plans.LibSQL)}
		p := route.prefix
		s.echo.Match(readMethods, p+"/v2", with(index(2), mw...))
		s.echo.Match(readMethods, p+"/v3", with(index(3), mw...))
		s.echo.POST(p+"/v2/pipeline", with(pipeline(2), mw...))
		s.echo.POST(p+"/v3/pipeline", with(pipeline(3), mw...))
		s.echo.POST(p+"/v3/cursor", with(cursor, mw...))
		for _, pb := range []string{"/v2-protobuf", "/v2-protobuf/*", "/v3-protobuf", "/v3-protobuf/*"} {
			s.echo.Match(append([]string{http.MethodPost}, readMethods...), p+pb, with(noProtobuf, mw...))
		}
	}
}

// withStreams runs h with the server's registry and the request's caller:
// its tenant, the access its credential's permissions give (sql.write:
// read-write; sql.read: read-only; neither: 403, for the whole pipeline)
// and the callbacks that record what the stream did.
func (s *Server) withStreams(h func(c echo.Context, r *hrana.Registry, caller *hrana.Caller) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.streams == nil {
			return errNoStreams
		}
		p := principalOf(c)
		if p == nil {
			return missingToken(c)
		}
		var access hrana.Access
		switch {
		case p.Perms.Has(auth.SQLOwner):
			access = hrana.Owner
		case p.Perms.Has(auth.SQLWrite):
			access = hrana.ReadWrite
		case p.Perms.Has(auth.SQLRead):
			access = hrana.ReadOnly
		default:
			detail := map[string]any{"permission": auth.SQLRead, "method": c.Request().Method, "route": c.Path()}
			s.securityEvent(c, "permission_denied", "", detail, detail)
			return condo.ReasonErrorf(condo.EFORBIDDEN, "permission_denied", "this credential may not run SQL: it needs sql.read or sql.write")
		}
		access = capAccess(c.Request(), access) // a node forwarding for its client may ask for less
		t := tenantOf(c)
		if s.store.MovedAway(t.ID, t.Epoch) { // resolved just before a move flipped: its body is unread, send it home
			return s.followMove(c, condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_moved", "tenant %s has moved to another region; retry", t.ID))
		}
		if t.Location != "" {
			return s.forwardSQL(c, t, access, hranaSuffix(c.Request().URL.Path))
		}
		caller := &hrana.Caller{Tenant: t, Access: access, Quota: t.StorageQuota, Capped: true,
			OnWrite: func() { s.content.Invalidate(t.ID) },
			OnForeignBaton: func(batonTenant string) {
				s.securityEvent(c, "cross_tenant_baton", "", map[string]any{}, map[string]any{"baton_tenant": batonTenant})
			}}
		if s.usage != nil {
			caller.OnStatements = func(n int) { s.usage.Statements(t.ID, n) }
		}
		return h(c, s.streams, caller)
	}
}

// missingToken refuses a request of the endpoint that carries no
// credential.
func missingToken(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="condo"`)
	return condo.ReasonErrorf(condo.EUNAUTHORIZED, "missing_token",
		"send Authorization: Bearer <token>: an API token or a session token of this tenant with sql.read or sql.write")
}

// hranaErrors answers every error of the endpoint's routes (tenant
// resolution and authentication included) in the protocol's shape, with
// the status the server's table gives a domain error.
func hranaErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed || clientGone(c, err) {
			return err // handleError logs a client that went away
		}
		var he *hrana.HTTPError
		if !errors.As(err, &he) {
			he = hranaError(c, err)
		}
		hrana.WriteError(c.Response(), he)
		return nil
	}
}

// hranaError translates a domain or echo error for hranaErrors; an
// internal one is logged and answered without its detail.
func hranaError(c echo.Context, err error) *hrana.HTTPError {
	var ee *echo.HTTPError
	if errors.As(err, &ee) {
		msg := strings.ToLower(http.StatusText(ee.Code))
		if m, ok := ee.Message.(string); ok && ee.Code < 500 {
			msg = m
		}
		return &hrana.HTTPError{Status: ee.Code, Code: strings.ToUpper(strings.ReplaceAll(http.StatusText(ee.Code), " ", "_")), Message: msg}
	}
	code := condo.ErrorCode(err)
	if code == condo.EINTERNAL {
		logger(c).Error("libSQL request failed", "err", err)
		return &hrana.HTTPError{Status: http.StatusInternalServerError, Code: "INTERNAL", Message: "internal error"}
	}
	e := &hrana.HTTPError{Status: statuses[code], Code: strings.ToUpper(condo.ErrorReason(err)), Message: condo.ErrorMessage(err)}
	if e.Status == http.StatusServiceUnavailable {
		e.RetryAfter = time.Second
	}
	return e
}

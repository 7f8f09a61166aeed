package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/lifecycle"
	"github.com/condohq/condo/route"
)

// Keys of values a request carries in its echo.Context.
const (
	ctxLogger = "condo.logger"
	ctxTenant = "condo.tenant"
)

// requestID takes a well-formed X-Request-Id from the client (so a trace
// can cross a proxy) or makes one, and echoes it in the response.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			id = condo.NewID()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		c.Set(ctxLogger, &requestLog{attrs: []slog.Attr{slog.String("request_id", id)}})
		return next(c)
	}
}

func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// accessLog gives the request its logger (carrying its id and, once
// known, its tenant and actor) and writes one line when the request ends.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		rl, _ := c.Get(ctxLogger).(*requestLog)
		if rl == nil {
			rl = &requestLog{}
			c.Set(ctxLogger, rl)
		}
		rl.base = s.logger
		err := next(c)
		if err != nil {
			c.Error(err) // write the error now, so its status is logged
		}
		ctx := c.Request().Context()
		if !s.logger.Enabled(ctx, slog.LevelInfo) {
			return nil
		}
		r := c.Response()
		s.logger.LogAttrs(ctx, slog.LevelInfo, "request", append(rl.attrs,
			slog.String("method", c.Request().Method),
			slog.String("path", redactedPath(c)),
			slog.Int("status", r.Status),
			slog.Int64("bytes", r.Size),
			slog.Duration("duration", time.Since(start)))...)
		return nil
	}
}

// requestLog is a request's logger, built only when something logs: a
// slog.Logger.With on every request cost more than the access line.
type requestLog struct {
	base  *slog.Logger
	attrs []slog.Attr // request_id, tenant, actor, ...: on every line
	built *slog.Logger
}

// addLogAttrs puts attrs on every later line of the request's log.
func addLogAttrs(c echo.Context, attrs ...slog.Attr) {
	if rl, ok := c.Get(ctxLogger).(*requestLog); ok {
		rl.attrs = append(rl.attrs, attrs...)
		rl.built = nil
	}
}

// redactedPath is the request's path with secret path parameters (an
// invitation token) blanked, so access logs never hold a secret.
// Unmatched paths under /auth/invitations/ (a GET on the link, a stray
// slash) are blanked too.
func redactedPath(c echo.Context) string {
	path := c.Request().URL.Path
	for i, name := range c.ParamNames() {
		if name == "token" && i < len(c.ParamValues()) && c.ParamValues()[i] != "" {
			path = strings.Replace(path, c.ParamValues()[i], "REDACTED", 1)
		}
	}
	const invitations = "/auth/invitations/"
	if rest, ok := strings.CutPrefix(path, invitations); ok && !strings.HasPrefix(rest, "REDACTED/accept") {
		if rest != "" {
			rest = "REDACTED"
		}
		path = invitations + rest
	}
	return path
}

// Header values every answer carries, built once: Header.Set allocates on
// each call. Sharing is safe: their capacity is their length, so an Add
// to one copies it first.
var (
	nosniff    = []string{"nosniff"}
	noReferrer = []string{"no-referrer"}
)

// securityHeaders marks every answer as JSON not to be sniffed, and keeps
// answers that carry credentials (sessions, new API tokens) out of caches.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h["X-Content-Type-Options"] = nosniff // shared: see below
		h["Referrer-Policy"] = noReferrer
		p := c.Request().URL.Path
		if strings.HasPrefix(p, "/auth/") || strings.HasPrefix(p, "/platform/auth/") || strings.HasPrefix(p, "/platform/tenants/") || p == "/api/tokens" {
			h.Set(echo.HeaderCacheControl, "no-store")
		}
		return next(c)
	}
}

// logger returns the request's logger.
func logger(c echo.Context) *slog.Logger {
	rl, ok := c.Get(ctxLogger).(*requestLog)
	if !ok || rl.base == nil {
		return slog.New(slog.DiscardHandler)
	}
	if rl.built == nil {
		rl.built = slog.New(rl.base.Handler().WithAttrs(rl.attrs))
	}
	return rl.built
}

// resolveTenant maps the request's host (or X-Tenant-ID, where enabled) to
// its tenant, refusing unknown, suspended and archived ones.
func (s *Server) resolveTenant(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		t, err := s.catalog.ResolveHost(r.Context(), r.Host, r.Header.Get("X-Tenant-ID"))
		if err != nil && s.wakeArchived && condo.ErrorReason(err) == "tenant_archived" {
			t, err = s.wake(c, err)
		}
		if err != nil {
			return err
		}
		c.Set(ctxTenant, t)
		addLogAttrs(c, slog.String("tenant", t.ID))
		return next(c)
	}
}

// wake restores the request's tenant, archived by the idle archiver, so
// that this first request is served once it is back (Config.WakeArchived);
// one an operator archived answers archived (err). Wakes run one at a
// time: the requests of a tenant being woken wait for it. A tenant homed
// elsewhere is woken by its home, which routeHome sends the request to.
func (s *Server) wake(c echo.Context, archived error) (*catalog.Tenant, error) {
	ctx := c.Request().Context()
	r := c.Request()
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	t, err := s.catalog.ResolveAny(ctx, r.Host, r.Header.Get("X-Tenant-ID"))
	if err != nil {
		return nil, err
	}
	if t.Status != catalog.StatusArchived {
		return t, nil // woken by the request before this one
	}
	if s.elsewhere(c, t.Region) {
		return t, nil
	}
	woke, err := lifecycle.Wake(ctx, s.catalog, s.store, t.ID)
	if err != nil {
		logger(c).Error("wake an archived tenant", "tenant", t.ID, "err", err)
		return nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_waking", "tenant %s is archived and could not be woken: retry later", t.ID)
	}
	if !woke {
		return nil, archived
	}
	logger(c).Info("woke an archived tenant", "tenant", t.ID)
	return s.catalog.ResolveHost(ctx, r.Host, r.Header.Get("X-Tenant-ID"))
}

// tenantOf returns the tenant a request resolved to.
func tenantOf(c echo.Context) *catalog.Tenant {
	t, _ := c.Get(ctxTenant).(*catalog.Tenant)
	return t
}

// withTenantDB acquires the request's tenant database for fn and releases
// it when fn returns.
func (s *Server) withTenantDB(c echo.Context, fn func(ctx context.Context, h tenantHandle) error) error {
	ctx := c.Request().Context()
	h, release, err := s.store.AcquireTenant(ctx, tenantOf(c))
	if err != nil {
		if condo.ErrorReason(err) == "tenant_moved" {
			return s.followMove(c, err)
		}
		return err
	}
	defer release()
	return fn(ctx, h)
}

// followMove answers a request that resolved its tenant just before the
// tenant moved away: a read, or a libSQL request whose body is unread
// yet, is forwarded to the new
// home, so reads keep working through a move; anything else gets err
// (503 tenant_moved with Retry-After: the client's retry goes home).
func (s *Server) followMove(c echo.Context, err error) error {
	r := c.Request()
	if s.router == nil || r.Header.Get(route.MarkerHeader) != "" || (r.Method != http.MethodGet && r.Method != http.MethodHead && !isHranaPath(r.URL.Path)) {
		return err
	}
	t, lerr := s.catalog.Lookup(r.Context(), tenantOf(c).ID)
	if lerr != nil || t.Region == "" || t.Region == s.router.Region {
		return err
	}
	c.Set(ctxTenant, t)
	return s.forward(c, t.Region, t.ID, "")
}

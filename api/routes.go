package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
)

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

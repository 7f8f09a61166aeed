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
// send it home if it lives elsewhere, spend one request of its plan's
// rate limit, authenticate, then check perm (anyone, signedIn or a
// permission) and, for a CMS write, the storage quota (see plans.go). A GET
// route answers HEAD too (see readMethods).
func (s *Server) tenantRoute(method, path string, h echo.HandlerFunc, perm string) {
	mw := []echo.MiddlewareFunc{s.resolveTenant, s.routeHome, s.limitRate, s.authenticate}
	if perm != anyone {
		mw = append(mw, s.require(perm))
	}
	if quotaRoute(method, path) {
		mw = append(mw, s.storageQuota)
	}
	if method == http.MethodGet {
		s.echo.Match(readMethods, path, with(h, mw...))
		return
	}
	s.echo.Add(method, path, with(h, mw...))
}

package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/admin"
)

// adminRoutes mounts the HTML admin (package admin): the tenant admin at
// /admin behind the same tenant resolution, routing home and rate limit
// as the API; the console at /platform/admin on any host; their assets on
// every host. The admin calls this server's echo in process, so it sees
// the API exactly as a client does.
func (s *Server) adminRoutes(signup bool) {
	a := admin.New(admin.Config{API: s.echo, Version: s.version, BaseDomain: s.catalog.BaseDomain, Signup: signup, Now: s.now, Logger: s.logger})
	s.echo.Match(readMethods, admin.AssetsPath+"/:name", a.Asset)
	a.TenantRoutes(s.echo.Group(admin.TenantPath, s.consoleOnPlatformHost, s.resolveTenant, s.routeHome, s.limitRate))
	a.ConsoleRoutes(s.echo.Group(admin.ConsolePath))
}

// consoleOnPlatformHost sends /admin on platform.<base-domain> to the
// console: that host has no tenant.
func (s *Server) consoleOnPlatformHost(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if condo.NormalizeHost(r.Host) == "platform."+s.catalog.BaseDomain(r.Context()) {
			return c.Redirect(http.StatusFound, admin.ConsolePath+r.URL.Path[len(admin.TenantPath):])
		}
		return next(c)
	}
}

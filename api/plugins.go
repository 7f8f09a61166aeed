package api

import (
	"cmp"
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/plugins"
)

// pluginRoutes serves the tenant's management of its plugins (settings
// permissions: the tenant's admins) and the routes of every registered
// plugin, under /api/plugins/<name>/, for the tenants that enabled it.
func (s *Server) pluginRoutes() {
	s.tenantRoute(http.MethodGet, "/api/plugins", s.listPlugins, auth.SettingsRead)
	s.tenantRoute(http.MethodGet, "/api/plugins/:name", s.getPlugin, auth.SettingsRead)
	s.tenantRoute(http.MethodPut, "/api/plugins/:name", s.putPlugin, auth.SettingsUpdate)
	for _, p := range s.plugins.Registry().Plugins() {
		for _, rt := range p.Routes {
			s.tenantRoute(rt.Method, "/api/plugins/"+p.Name+rt.Path, s.pluginRoute(p, rt), cmp.Or(rt.Perm, anyone))
		}
	}
}

// listPlugins serves GET /api/plugins: every plugin of the server, with
// whether the tenant enabled it and its settings.
func (s *Server) listPlugins(c echo.Context) error {
	var out []plugins.Status
	err := s.withTenantDB(c, func(ctx context.Context, h tenantHandle) (err error) {
		out, err = s.plugins.List(ctx, h.DB)
		return err
	})
	if err != nil {
		return err
	}
	// allowed says whether the tenant's plan lets it enable each one, so
	// an admin sees the gate before trying.
	plan := s.planOf(c)
	list := make([]pluginListing, len(out))
	for i, st := range out {
		list[i] = pluginListing{Status: st, Allowed: plan.AllowsPlugin(st.Name)}
	}
	setCacheControl(c, privateNoStore)
	return c.JSON(http.StatusOK, map[string]any{"data": list, "meta": map[string]any{"plan": plan.Name}})
}

// pluginListing is one plugin of GET /api/plugins and /api/plugins/:name.
type pluginListing struct {
	plugins.Status
	Allowed bool `json:"allowed"`
}

func (s *Server) getPlugin(c echo.Context) error {
	var out plugins.Status
	err := s.withTenantDB(c, func(ctx context.Context, h tenantHandle) (err error) {
		out, err = s.plugins.Get(ctx, h.DB, c.Param("name"))
		return err
	})
	if err != nil {
		return err
	}
	setCacheControl(c, privateNoStore)
	return c.JSON(http.StatusOK, map[string]any{"data": pluginListing{Status: out, Allowed: s.planOf(c).AllowsPlugin(out.Name)}})
}

// putPlugin serves PUT /api/plugins/:name {"enabled": bool, "settings":
// {...}}: either may be left out (kept as is). Settings are validated
// against the plugin's schema: 400 validation_failed with error.fields.
func (s *Server) putPlugin(c echo.Context) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	var ch plugins.Change
	if err := decodeJSON(b, &ch); err != nil {
		return err
	}
	if ch.Enabled == nil && ch.Settings == nil {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_body", `send {"enabled": true|false} and/or {"settings": {...}}`)
	}
	t := tenantOf(c)
	var out plugins.Status
	err = s.withTenantDB(c, func(ctx context.Context, h tenantHandle) (err error) {
		out, err = s.plugins.Configure(ctx, t.ID, h.DB, c.Param("name"), ch)
		return err
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "plugin.configured", out.Name, map[string]any{"enabled": out.Enabled})
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// pluginRoute serves one route of plugin p: 404 plugin_not_enabled for a
// tenant that did not enable it.
func (s *Server) pluginRoute(p *plugins.Plugin, rt plugins.Route) echo.HandlerFunc {
	return func(c echo.Context) error {
		t := tenantOf(c)
		setCacheControl(c, privateNoStore)
		return s.withTenantDB(c, func(ctx context.Context, h tenantHandle) error {
			settings, ok, err := s.plugins.Enabled(ctx, t.ID, h.DB, p.Name)
			if err != nil {
				return err
			}
			if !ok {
				return condo.ReasonErrorf(condo.ENOTFOUND, "plugin_not_enabled", "plugin %s is not enabled on this site", p.Name)
			}
			req := &plugins.Request{W: c.Response(), R: c.Request(), Tenant: t.ID, DB: h.DB,
				Content: s.content.Store(t.ID, h.DB, s.store.MediaDir(t.ID)), Settings: settings, Param: c.Param}
			if pr := principalOf(c); pr != nil {
				req.Actor = pr.UserID
			}
			return s.plugins.Serve(p, rt.Handler, req)
		})
	}
}

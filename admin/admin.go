// Package admin serves Condo's HTML admin: the tenant admin at /admin on a
// tenant's host, for its editors and admins, and the platform console at
// /platform/admin (platform.<base-domain>/admin redirects there), for
// platform admins.
//
// Pages are rendered on the server with html/template and enhanced with
// htmx (vendored, embedded): every form also works with JavaScript off,
// posting and redirecting (post/redirect/get).
//
// The admin is a client of Condo's own JSON API, called in process
// (client.go) with the signed-in user's token and the request's Host. So a
// page does exactly what the API does for the same credentials (the same
// validation and its messages, quotas, plugin hooks, webhooks, audit) and
// can reach no tenant, and no row, that the API would not give that user.
// The admin itself runs no SQL and opens no database.
//
// Sessions live in host-only cookies (HttpOnly, SameSite=Lax, Secure behind
// TLS) scoped to the admin's path; every form carries a CSRF token
// (echo's double-submit middleware); every page has a strict
// Content-Security-Policy without inline script or style.
package admin

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Config is what the admin needs from the server.
type Config struct {
	// API is Condo's JSON API (api.Server's echo, without compression):
	// every page calls it in process.
	API http.Handler
	// Version is shown in the footer and busts nothing (asset names carry
	// their own content hash).
	Version string
	// BaseDomain returns the catalog's base domain (tenant hosts are
	// <id>.<base-domain>; the console is on platform.<base-domain>).
	BaseDomain func(context.Context) string
	// Signup turns on the public sign-up pages on the platform host
	// (serve's --signup).
	Signup bool
	// Now is the clock sessions are checked against (nil: time.Now).
	Now func() time.Time
	// Logger receives the pages' internal errors (nil discards).
	Logger *slog.Logger
}

// Admin serves the admin pages and their assets.
type Admin struct {
	api        http.Handler
	version    string
	baseDomain func(context.Context) string
	signup     bool
	now        func() time.Time
	logger     *slog.Logger
	pages      *pages
	refresher  *refresher
}

// New builds the admin: it parses the embedded templates and hashes the
// embedded assets. It does no I/O beyond reading the binary's embedded
// files and starts no goroutine.
func New(cfg Config) *Admin {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BaseDomain == nil {
		cfg.BaseDomain = func(context.Context) string { return "localhost" }
	}
	return &Admin{api: cfg.API, version: cfg.Version, baseDomain: cfg.BaseDomain, signup: cfg.Signup,
		now: cfg.Now, logger: cfg.Logger, pages: mustParsePages(), refresher: newRefresher(cfg.Now)}
}

// AssetsPath is where the embedded assets are served on every host.
const AssetsPath = "/admin/assets"

// TenantRoutes registers the tenant admin on g, a group at /admin whose
// middleware has resolved the request's tenant (and sent it home when it
// lives in another region). Each area of the admin registers its own
// pages, in its own file.
func (a *Admin) TenantRoutes(g *echo.Group) {
	g.Use(a.pageHeaders, a.csrf(TenantPath))
	a.tenantSessionRoutes(g)
	a.welcomeRoutes(g)
	authed := g.Group("", a.requireTenantSession)
	get(authed, "", a.dashboard)
	get(authed, "/", a.dashboard)
	a.collectionRoutes(authed)
	a.contentRoutes(authed)
	a.mediaRoutes(authed)
	a.userRoutes(authed)
	a.tokenRoutes(authed)
	a.webhookRoutes(authed)
	a.pluginRoutes(authed)
	a.settingsRoutes(authed)
	a.auditRoutes(authed)
	a.accountRoutes(authed)
}

// ConsoleRoutes registers the platform console on g, a group at
// /platform/admin on any host.
func (a *Admin) ConsoleRoutes(g *echo.Group) {
	g.Use(a.pageHeaders, a.csrf(ConsolePath))
	a.consoleSessionRoutes(g)
	a.signupRoutes(g)
	authed := g.Group("", a.requireConsoleSession)
	a.consoleRoutes(authed)
}

// Paths of the two admins; cookies are scoped to them.
const (
	TenantPath  = "/admin"
	ConsolePath = "/platform/admin"
)

// Internal reports whether w is the writer of the admin's in-process call
// to the API (client.go): the page's own request was already counted
// against the tenant's rate limit and usage, so its API calls are not
// counted again. Only this package makes such a writer.
func Internal(w http.ResponseWriter) bool {
	_, ok := w.(*recorder)
	return ok
}

// get registers a read route: GET and HEAD, like every read route of the
// server.
func get(g *echo.Group, path string, h echo.HandlerFunc) {
	g.Match([]string{http.MethodGet, http.MethodHead}, path, h)
}

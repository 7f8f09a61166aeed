// Package plugins runs the plugins compiled into the binary for the
// tenants that enabled them. A plugin is a Go package that builds a
// Plugin (a name, a settings schema in the field-schema language of
// collections, hooks and routes) and is put in a Registry; a Runner
// dispatches the hooks of each tenant's enabled plugins around the CMS's
// writes (it is the cms.Hooks of the server's content stores) and after
// sign-ins, keeps each tenant's enabled set cached, and guards every call
// (a panic or a hook past its timeout fails only the request it runs
// for). Which plugins a tenant enabled, with its settings, is the
// tenant's plugins table (tenant migration 000007).
//
// Order: a tenant's enabled plugins run in the order of their names
// (byte order), whatever order they were registered in, so the same
// tenant always sees the same sequence; each before-hook sees what the
// previous ones changed.
package plugins

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/cms"
)

// DefaultTimeout bounds one hook call, or one call of a plugin's route,
// unless the plugin sets its own.
const DefaultTimeout = 2 * time.Second

// Hook names, as errors and logs name them.
const (
	HookBeforeSave   = "content.beforeSave"
	HookAfterSave    = "content.afterSave"
	HookBeforeDelete = "content.beforeDelete"
	HookAfterDelete  = "content.afterDelete"
	HookAfterUpload  = "media.afterUpload"
	HookAfterLogin   = "auth.afterLogin"
	HookRequest      = "request"
)

// Plugin is what a plugin registers. Every hook is optional. Hooks get
// the tenant's settings of the plugin (validated against Settings, with
// its defaults filled in) and must treat them as read-only: they are
// shared by concurrent calls.
//
// Before-hooks run inside the write transaction: an error they return
// rolls the write back. A coded error (cms.ValidationFailed for field
// errors, a condo.Error of another code) reaches the client as it is; any
// other error, a panic or running past Timeout fails the request with 500
// plugin_failed naming the plugin. After-hooks run once the write
// committed; what goes wrong in them is logged, never the write's error.
type Plugin struct {
	// Name is the plugin's id: 1-40 lower-case letters, digits and
	// dashes. Its routes live under /api/plugins/<Name>/.
	Name        string
	Description string
	// Settings is the schema of the plugin's settings, in the language of
	// collection schemas (cms.ParseSchema); nil: none (an empty object).
	Settings json.RawMessage
	// Timeout bounds each call of the plugin's hooks (0: DefaultTimeout).
	Timeout time.Duration

	// BeforeSave and AfterSave run around every write that stores an
	// item (ev.Op: create, update, a status transition, a restore from
	// the trash); only create and update store what BeforeSave changes
	// (ev.Op.ChangesData). BeforeDelete and AfterDelete run around the
	// writes that remove one (trash, purge, expire). See docs/PLUGINS.md.
	BeforeSave   func(ctx context.Context, s Settings, ev *cms.SaveEvent) error
	AfterSave    func(ctx context.Context, s Settings, ev *cms.SaveEvent) error
	BeforeDelete func(ctx context.Context, s Settings, ev *cms.DeleteEvent) error
	AfterDelete  func(ctx context.Context, s Settings, ev *cms.DeleteEvent) error
	AfterUpload  func(ctx context.Context, s Settings, ev *cms.MediaEvent) error
	AfterLogin   func(ctx context.Context, s Settings, ev *LoginEvent) error

	// Routes are served under /api/plugins/<Name>, for tenants that
	// enabled the plugin only (404 plugin_not_enabled for the others).
	Routes []Route
	// Middleware wraps each of the plugin's routes, and nothing else.
	Middleware func(Handler) Handler

	schema *cms.Schema // Settings, parsed by Register
}

// Route is one HTTP route of a plugin.
type Route struct {
	Method string
	// Path is below /api/plugins/<name>, starting with a slash and not
	// only one, in echo's syntax (":form" names a parameter).
	Path string
	// Perm is the permission a caller needs (auth's names); empty: anyone,
	// anonymous callers included.
	Perm    string
	Handler Handler
}

// Handler serves a route of a plugin. It writes the answer (Request.JSON)
// or returns an error, which the server answers as it answers any:
// a coded error with its status, anything else as 500 plugin_failed.
type Handler func(r *Request) error

// Request is one call of a plugin's route, for one tenant.
type Request struct {
	W        http.ResponseWriter
	R        *http.Request
	Tenant   string
	DB       condo.DB
	Content  *cms.Store // the tenant's content, hooks included
	Settings Settings
	Actor    string // the signed-in user's id; empty: anonymous
	// Param returns a path parameter of the route.
	Param func(name string) string
}

// JSON writes v as the answer with status.
func (r *Request) JSON(status int, v any) error {
	r.W.Header().Set("Content-Type", "application/json; charset=UTF-8")
	r.W.WriteHeader(status)
	return json.NewEncoder(r.W).Encode(v)
}

// LoginEvent is a user who just signed in with a password.
type LoginEvent struct {
	Tenant string
	DB     condo.DB
	UserID string
	Email  string
}

var namePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)

// ValidName reports whether name can name a plugin.
func ValidName(name string) bool { return namePattern.MatchString(name) }

func (p *Plugin) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return DefaultTimeout
}

// hooks names the hooks the plugin has, for listings.
func (p *Plugin) hooks() []string {
	var out []string
	for _, h := range []struct {
		name string
		set  bool
	}{{HookBeforeSave, p.BeforeSave != nil}, {HookAfterSave, p.AfterSave != nil}, {HookBeforeDelete, p.BeforeDelete != nil}, {HookAfterDelete, p.AfterDelete != nil},
		{HookAfterUpload, p.AfterUpload != nil}, {HookAfterLogin, p.AfterLogin != nil}, {HookRequest, p.Middleware != nil}} {
		if h.set {
			out = append(out, h.name)
		}
	}
	return out
}

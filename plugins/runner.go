package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/condohq/condo"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/metrics"
)

// DefaultCacheSize is how many tenants' enabled sets a Runner keeps.
const DefaultCacheSize = 100_000

// Config tunes a Runner.
type Config struct {
	Logger *slog.Logger // nil discards
	// TTL bounds how long a tenant's enabled set is trusted when another
	// process (the CLI, a second server) changed it: changes made through
	// this Runner are seen at once. The server passes the catalog's
	// resolution TTL, the bound of every cache of the process.
	TTL time.Duration
	// CacheSize bounds the tenants whose sets are cached (0:
	// DefaultCacheSize).
	CacheSize int
	Now       func() time.Time // nil: time.Now
	// Allowed says whether the tenant's plan lets it run the plugin (the
	// plans package will answer; nil: every plugin is allowed). It is
	// asked when a tenant enables a plugin and when its enabled set is
	// (re)loaded, so a downgrade stops a plugin within TTL.
	Allowed func(ctx context.Context, tenant, plugin string) error
}

// Runner runs a registry's plugins for the tenants that enabled them.
// It implements cms.Hooks: the server's content cache runs it around
// every write (cms.Cache.WithHooks).
//
// A hook runs on a goroutine of its own, so that one past its timeout
// can be left behind: the request fails at the deadline and the hook's
// goroutine ends when the hook returns. Close waits for those.
type Runner struct {
	reg     *Registry
	cfg     Config
	logger  *slog.Logger
	gens    sync.Map                        // tenant id → *atomic.Uint64, bumped by every change made here
	sets    *lru.Cache[string, *enabledSet] // tenant id → its enabled plugins
	running sync.WaitGroup                  // hook goroutines
}

var _ cms.Hooks = (*Runner)(nil)

// enabledSet is a tenant's enabled plugins, in run order, as loaded at
// generation gen.
type enabledSet struct {
	gen     uint64
	expires time.Time
	list    []active
}

type active struct {
	p        *Plugin
	settings Settings
}

// NewRunner returns a runner of reg's plugins. It does no I/O.
func NewRunner(reg *Registry, cfg Config) *Runner {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	sets, _ := lru.New[string, *enabledSet](cfg.CacheSize)
	return &Runner{reg: reg, cfg: cfg, logger: cfg.Logger, sets: sets}
}

// Registry returns the runner's registry.
func (r *Runner) Registry() *Registry { return r.reg }

// Close waits until every hook left behind at its deadline returned, or
// ctx ends.
func (r *Runner) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { r.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("plugin hooks still running: %w", ctx.Err())
	}
}

func (r *Runner) gen(tenant string) *atomic.Uint64 {
	if g, ok := r.gens.Load(tenant); ok {
		return g.(*atomic.Uint64)
	}
	g, _ := r.gens.LoadOrStore(tenant, new(atomic.Uint64))
	return g.(*atomic.Uint64)
}

// Invalidate drops the tenant's cached enabled set; every change to a
// tenant's plugins table made in this process calls it.
//
// The set has a generation of its own rather than the CMS's content
// generation: every content write bumps that one, which would make each
// save after a save reload the plugins table.
func (r *Runner) Invalidate(tenant string) { r.gen(tenant).Add(1) }

// enabled returns the tenant's enabled plugins in run order: from the
// cache when it is of the current generation and fresh, else read from db.
func (r *Runner) enabled(ctx context.Context, tenant string, db condo.DB) ([]active, error) {
	if r == nil || len(r.reg.Plugins()) == 0 {
		return nil, nil
	}
	gen := r.gen(tenant).Load()
	if e, ok := r.sets.Get(tenant); ok && e.gen == gen && r.cfg.Now().Before(e.expires) {
		return e.list, nil
	}
	list, err := r.load(ctx, tenant, db)
	if err != nil {
		return nil, err
	}
	r.sets.Add(tenant, &enabledSet{gen: gen, expires: r.cfg.Now().Add(r.cfg.TTL), list: list})
	return list, nil
}

// load reads the tenant's enabled plugins that this binary has and its
// plan allows.
func (r *Runner) load(ctx context.Context, tenant string, db condo.DB) ([]active, error) {
	rows, err := db.Reader().QueryContext(ctx, "SELECT name, settings FROM plugins WHERE enabled = 1")
	if err != nil {
		return nil, fmt.Errorf("read enabled plugins: %w", err)
	}
	defer rows.Close()
	byName := map[string]Settings{}
	for rows.Next() {
		var name, raw string
		if err := rows.Scan(&name, &raw); err != nil {
			return nil, err
		}
		var s Settings
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			return nil, fmt.Errorf("plugin %s settings: %w", name, err)
		}
		byName[name] = s
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var list []active
	for _, p := range r.reg.Plugins() { // in run order
		s, ok := byName[p.Name]
		if !ok {
			continue
		}
		if r.cfg.Allowed != nil {
			if err := r.cfg.Allowed(ctx, tenant, p.Name); err != nil {
				if condo.ErrorCode(err) == condo.EINTERNAL {
					return nil, err
				}
				continue // the plan no longer allows it
			}
		}
		list = append(list, active{p: p, settings: normalize(s)})
	}
	return list, nil
}

// normalize turns whole numbers decoded as float64 into int64, the form
// the schema's validation gives them.
func normalize(s Settings) Settings {
	for k, v := range s {
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			s[k] = int64(f)
		}
	}
	return s
}

// call runs fn, a hook of p, on its own goroutine under p's timeout,
// turning a panic, the deadline or an uncoded error into a *Failure.
func (r *Runner) call(ctx context.Context, tenant string, p *Plugin, hook string, fn func(ctx context.Context) error) error {
	timeout := p.timeout()
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	r.running.Add(1)
	go func() {
		defer r.running.Done()
		defer func() {
			if v := recover(); v != nil {
				r.logger.Error("plugin panicked", "tenant", tenant, "plugin", p.Name, "hook", hook,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				done <- failed(&Failure{Plugin: p.Name, Hook: hook, Panicked: true})
			}
		}()
		done <- fn(hctx)
	}()
	select {
	case err := <-done:
		var f *Failure
		switch {
		case err == nil || errors.As(err, &f):
			return err
		case ctx.Err() != nil:
			return ctx.Err() // the request's own end (the client left)
		case errors.Is(err, context.DeadlineExceeded) && hctx.Err() != nil:
			return failed(&Failure{Plugin: p.Name, Hook: hook, Timeout: timeout, Cause: err})
		case condo.ErrorCode(err) != condo.EINTERNAL:
			return err // the plugin's answer to the caller: field errors, a conflict, ...
		}
		return failed(&Failure{Plugin: p.Name, Hook: hook, Cause: err})
	case <-hctx.Done():
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.logger.Error("plugin hook past its timeout, left running", "tenant", tenant, "plugin", p.Name, "hook", hook, "timeout", timeout)
		return failed(&Failure{Plugin: p.Name, Hook: hook, Timeout: timeout})
	}
}

// failed counts f (metrics.PluginFailures) and returns it.
func failed(f *Failure) *Failure {
	kind := "error"
	switch {
	case f.Panicked:
		kind = "panic"
	case f.Timeout > 0:
		kind = "timeout"
	}
	metrics.PluginFailures.WithLabelValues(f.Plugin, f.Hook, kind).Inc()
	return f
}

// after runs an after-hook: on a context the request's end does not
// cancel, its failure logged, never returned.
func (r *Runner) after(ctx context.Context, tenant string, p *Plugin, hook string, fn func(ctx context.Context) error) {
	if err := r.call(context.WithoutCancel(ctx), tenant, p, hook, fn); err != nil {
		var f *Failure
		if !errors.As(err, &f) || !f.Panicked { // a panic is logged with its stack already
			r.logger.Error("plugin after-hook failed", "tenant", tenant, "plugin", p.Name, "hook", hook, "err", err)
		}
	}
}

// BeforeSave runs the enabled plugins' content.beforeSave hooks in order.
func (r *Runner) BeforeSave(ctx context.Context, ev *cms.SaveEvent) error {
	list, err := r.enabled(ctx, ev.Tenant, ev.DB)
	if err != nil || len(list) == 0 {
		return err
	}
	ev.State = list // the after-hooks run the same set
	for _, a := range list {
		if a.p.BeforeSave == nil {
			continue
		}
		if err := r.call(ctx, ev.Tenant, a.p, HookBeforeSave, func(ctx context.Context) error {
			return a.p.BeforeSave(ctx, a.settings, ev)
		}); err != nil {
			return err
		}
	}
	return nil
}

// AfterSave runs the content.afterSave hooks of the set BeforeSave ran.
func (r *Runner) AfterSave(ctx context.Context, ev *cms.SaveEvent) {
	list, _ := ev.State.([]active)
	for _, a := range list {
		if a.p.AfterSave != nil {
			r.after(ctx, ev.Tenant, a.p, HookAfterSave, func(ctx context.Context) error { return a.p.AfterSave(ctx, a.settings, ev) })
		}
	}
}

// BeforeDelete runs the content.beforeDelete hooks in order.
func (r *Runner) BeforeDelete(ctx context.Context, ev *cms.DeleteEvent) error {
	list, err := r.enabled(ctx, ev.Tenant, ev.DB)
	if err != nil || len(list) == 0 {
		return err
	}
	ev.State = list // the after-hooks run the same set
	for _, a := range list {
		if a.p.BeforeDelete == nil {
			continue
		}
		if err := r.call(ctx, ev.Tenant, a.p, HookBeforeDelete, func(ctx context.Context) error {
			return a.p.BeforeDelete(ctx, a.settings, ev)
		}); err != nil {
			return err
		}
	}
	return nil
}

// AfterDelete runs the content.afterDelete hooks of the set BeforeDelete
// ran.
func (r *Runner) AfterDelete(ctx context.Context, ev *cms.DeleteEvent) {
	list, _ := ev.State.([]active)
	for _, a := range list {
		if a.p.AfterDelete != nil {
			r.after(ctx, ev.Tenant, a.p, HookAfterDelete, func(ctx context.Context) error { return a.p.AfterDelete(ctx, a.settings, ev) })
		}
	}
}

// AfterUpload runs the media.afterUpload hooks.
func (r *Runner) AfterUpload(ctx context.Context, ev *cms.MediaEvent) {
	r.afterAll(ctx, ev.Tenant, ev.DB, HookAfterUpload, func(a active) func(context.Context) error {
		if a.p.AfterUpload == nil {
			return nil
		}
		return func(ctx context.Context) error { return a.p.AfterUpload(ctx, a.settings, ev) }
	})
}

// AfterLogin runs the auth.afterLogin hooks of a user who signed in.
func (r *Runner) AfterLogin(ctx context.Context, ev *LoginEvent) {
	r.afterAll(ctx, ev.Tenant, ev.DB, HookAfterLogin, func(a active) func(context.Context) error {
		if a.p.AfterLogin == nil {
			return nil
		}
		return func(ctx context.Context) error { return a.p.AfterLogin(ctx, a.settings, ev) }
	})
}

func (r *Runner) afterAll(ctx context.Context, tenant string, db condo.DB, hook string, pick func(active) func(context.Context) error) {
	list, err := r.enabled(ctx, tenant, db)
	if err != nil {
		r.logger.Error("plugin hooks skipped", "tenant", tenant, "hook", hook, "err", err)
		return
	}
	for _, a := range list {
		if fn := pick(a); fn != nil {
			r.after(ctx, tenant, a.p, hook, fn)
		}
	}
}

// Enabled returns the tenant's settings of plugin name when the tenant
// enabled it (and may run it), for serving the plugin's routes.
func (r *Runner) Enabled(ctx context.Context, tenant string, db condo.DB, name string) (Settings, bool, error) {
	list, err := r.enabled(ctx, tenant, db)
	for _, a := range list {
		if a.p.Name == name {
			return a.settings, true, nil
		}
	}
	return nil, false, err
}

// Serve runs a route handler of p (with p's middleware) under p's timeout
// as its context's deadline, a panic turned into a *Failure. Unlike a
// hook it runs on the request's goroutine, since it writes the answer.
func (r *Runner) Serve(p *Plugin, h Handler, req *Request) (err error) {
	ctx, cancel := context.WithTimeout(req.R.Context(), p.timeout())
	defer cancel()
	req.R = req.R.WithContext(ctx)
	if p.Middleware != nil {
		h = p.Middleware(h)
	}
	defer func() {
		if v := recover(); v != nil {
			r.logger.Error("plugin route panicked", "tenant", req.Tenant, "plugin", p.Name, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = failed(&Failure{Plugin: p.Name, Hook: HookRequest, Panicked: true})
		}
	}()
	err = h(req)
	var f *Failure
	switch {
	case err == nil || errors.As(err, &f) || condo.ErrorCode(err) != condo.EINTERNAL:
		return err
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil && req.R.Context().Err() != nil:
		return failed(&Failure{Plugin: p.Name, Hook: HookRequest, Timeout: p.timeout(), Cause: err})
	}
	return failed(&Failure{Plugin: p.Name, Hook: HookRequest, Cause: err})
}

package plugins_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/plugins"
	"github.com/condohq/condo/plugins/shipped"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// tenantDB opens a real tenant file.
func tenantDB(t *testing.T) condo.DB {
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	env.MustCreate(t, "acme")
	h, release, err := env.Store.Acquire(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return h.DB
}

// A change made by another process (the CLI's runner) reaches the
// server's runner within its TTL; one made through it, at once.
func TestRunner_CacheInvalidation(t *testing.T) {
	ctx := context.Background()
	db := tenantDB(t)
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC).UnixNano())
	server := plugins.NewRunner(shipped.Registry(), plugins.Config{TTL: time.Minute, Now: func() time.Time { return time.Unix(0, now.Load()) }})
	cli := plugins.NewRunner(shipped.Registry(), plugins.Config{})
	enabled := func() bool {
		t.Helper()
		_, ok, err := server.Enabled(ctx, "acme", db, "seo")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	on, off := true, false
	if enabled() {
		t.Fatal("seo enabled on a new tenant")
	}
	if _, err := cli.Configure(ctx, "acme", db, "seo", plugins.Change{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	if enabled() {
		t.Error("another process's change seen before the TTL: the cache was not used")
	}
	now.Add(int64(time.Minute))
	if !enabled() {
		t.Error("another process's change not seen after the TTL")
	}
	if _, err := server.Configure(ctx, "acme", db, "seo", plugins.Change{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if enabled() {
		t.Error("the runner's own change not seen at once")
	}
}

// The plan's gate: refused on enable, and a plugin enabled before a
// downgrade stops running when the set is reloaded.
func TestRunner_PlanGate(t *testing.T) {
	ctx := context.Background()
	db := tenantDB(t)
	var allow atomic.Bool
	allow.Store(true)
	gate := func(_ context.Context, tenant, plugin string) error {
		if !allow.Load() {
			return condo.ReasonErrorf(condo.EFORBIDDEN, "plugin_not_allowed", "the plan of %s does not include plugin %s", tenant, plugin)
		}
		return nil
	}
	r := plugins.NewRunner(shipped.Registry(), plugins.Config{Allowed: gate})
	on := true
	if _, err := r.Configure(ctx, "acme", db, "reading-time", plugins.Change{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := r.Enabled(ctx, "acme", db, "reading-time"); !ok {
		t.Fatal("not enabled")
	}
	allow.Store(false)
	if _, err := r.Configure(ctx, "acme", db, "seo", plugins.Change{Enabled: &on}); condo.ErrorReason(err) != "plugin_not_allowed" {
		t.Errorf("enable past the plan: %v", err)
	}
	r.Invalidate("acme") // what a plan change will do; without it the TTL
	if _, ok, _ := r.Enabled(ctx, "acme", db, "reading-time"); ok {
		t.Error("a plugin the plan no longer allows still runs")
	}
	if err := r.BeforeSave(ctx, &cms.SaveEvent{Tenant: "acme", DB: db}); err != nil {
		t.Error(err)
	}
}
